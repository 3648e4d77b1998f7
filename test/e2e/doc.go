// Package e2e holds gatehouse's end-to-end tests. They run a real Trino 476 coordinator
// (see trinotest) whose opa access control sends every check over HTTP to a decision
// server, because only the real coordinator shows which checks are sent, in what shapes,
// and how Trino reacts to each answer.
//
// Once per machine (or CI cache), fetch the server from Maven Central:
//
//	test/e2e/fetch-trino.sh
//
// then run the suite from the repository root:
//
//	go test ./test/e2e/ -v -count=1
//
// The tests fail, rather than skip, when the server has not been fetched; -short skips them.
//
// TestTrinoSmoke checks the harness against a fake decision server. The TestScenarioNN tests
// (scenarios_test.go, the scenarios of issue 4) run against the real thing: gatehouse built
// from the tree and run as a subprocess on free loopback ports, with a fresh store and the
// shipped policies under the test rules of testdata/rules.json, behind one Trino coordinator
// that all of them share (main_test.go). Each test seeds its own directory users through
// the admin API. The package takes about a minute on a 2-core machine once Trino is fetched.
// Set GATEHOUSE_E2E_CAPTURE=1 to write the decision requests Trino sent during a test to
// testdata/captured-requests.jsonl (or set it to another file path): realistic request
// shapes for protocol tests and policy authors.
package e2e
