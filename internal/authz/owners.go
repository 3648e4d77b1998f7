package authz

import "slices"

// ownerIndex maps a trinoUsers key to the usernames holding it. Two users
// share a key only when case-insensitive matching folds names written before
// it was turned on (admin refuses new clashes): the smallest username wins,
// the same in a full load and an incremental refresh.
//
// Nearly every key has one holder, so that one is kept as a plain string
// and only clashing keys get a list: a list per key was 100,000 small
// slices in a 100,000-user directory, live objects every garbage collection
// marks while decisions wait.
type ownerIndex struct {
	first map[string]string   // key → the smallest username holding it
	clash map[string][]string // keys held by two or more: every holder, sorted
}

func newOwnerIndex(size int) ownerIndex {
	return ownerIndex{first: make(map[string]string, size), clash: map[string][]string{}}
}

// holder is the username key resolves to.
func (o ownerIndex) holder(key string) (string, bool) {
	u, ok := o.first[key]
	return u, ok
}

func (o ownerIndex) add(key, username string) {
	held, clashing := o.clash[key]
	if !clashing {
		cur, ok := o.first[key]
		if !ok {
			o.first[key] = username
			return
		}
		if cur == username {
			return
		}
		held = []string{cur}
	}
	if i, found := slices.BinarySearch(held, username); !found {
		held = slices.Insert(held, i, username)
	}
	o.clash[key], o.first[key] = held, held[0]
}

func (o ownerIndex) drop(key, username string) {
	held, clashing := o.clash[key]
	if !clashing {
		if o.first[key] == username {
			delete(o.first, key)
		}
		return
	}
	if i, found := slices.BinarySearch(held, username); found {
		held = slices.Delete(held, i, i+1)
	}
	o.first[key] = held[0]
	if len(held) == 1 {
		delete(o.clash, key)
	} else {
		o.clash[key] = held
	}
}
