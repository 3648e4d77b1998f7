module github.com/gatehouse-authz/gatehouse

go 1.26
