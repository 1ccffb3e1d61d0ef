package store

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "Alice@Lab.Test", "pw1", "Alice"); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "alice@lab.test", "x", ""); !errors.Is(err, ErrExists) {
		t.Errorf("AddUser twice = %v, want ErrExists", err)
	}
	for _, bad := range []string{"", "alice", "a@b", "a b@c.d", "@c.d", "a@@c.d"} {
		if err := s.AddUser(ctx, bad, "pw", ""); err == nil {
			t.Errorf("AddUser(%q) succeeded", bad)
		}
	}
	if e, err := s.CheckPassword(ctx, "ALICE@lab.test", "pw1"); err != nil || e != "alice@lab.test" {
		t.Errorf("CheckPassword(right) = %q, %v", e, err)
	}
	for _, tc := range []struct{ email, pw string }{{"alice@lab.test", "pw2"}, {"bob@lab.test", "pw1"}, {"junk", "pw1"}} {
		if _, err := s.CheckPassword(ctx, tc.email, tc.pw); !errors.Is(err, ErrBadPassword) {
			t.Errorf("CheckPassword(%s, %s) = %v, want ErrBadPassword", tc.email, tc.pw, err)
		}
	}
	var iter int
	var salt []byte
	s.db.QueryRow(`SELECT iterations, salt FROM accounts WHERE email='alice@lab.test'`).Scan(&iter, &salt)
	if iter < 24000 || len(salt) < 16 {
		t.Errorf("stored iterations %d, salt %d bytes; want >= 24000 and >= 16", iter, len(salt))
	}
	if err := s.SetPassword(ctx, "alice@lab.test", "pw2"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CheckPassword(ctx, "alice@lab.test", "pw2"); err != nil {
		t.Errorf("after SetPassword: %v", err)
	}
	s.AddUser(ctx, "bob@lab.test", "pw", "")
	vers, err := s.Commit(ctx,
		Change{Owner: "alice@lab.test", Contact: Contact{Email: "bob@lab.test", Name: "Bob", Lists: FL | AL, Groups: []int{0}}},
		Change{Owner: "bob@lab.test", Contact: Contact{Email: "alice@lab.test", Name: "Alice", Lists: RL}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int{"alice@lab.test": 1, "bob@lab.test": 1}, vers); diff != "" {
		t.Errorf("Commit versions (-want +got):\n%s", diff)
	}
	gid, v, err := s.AddGroup(ctx, "alice@lab.test", "Work")
	if err != nil || gid != 1 || v != 2 {
		t.Errorf("AddGroup = %d, %d, %v", gid, v, err)
	}
	if v, err := s.SetProfile(ctx, "alice@lab.test", "blp", "BL"); err != nil || v != 3 {
		t.Errorf("SetProfile = %d, %v", v, err)
	}
	if _, err := s.SetProfile(ctx, "alice@lab.test", "hash", "x"); err == nil {
		t.Errorf("SetProfile(hash) succeeded")
	}
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err := s.Load(ctx, "alice@lab.test")
	if err != nil {
		t.Fatal(err)
	}
	want := &Account{Email: "alice@lab.test", Name: "Alice", Version: 3, BLP: "BL", GTC: "A",
		Groups:   []Group{{1, "Work"}},
		Contacts: []Contact{{Email: "bob@lab.test", Name: "Bob", Lists: FL | AL, Groups: []int{0}}}}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Errorf("Load after reopen (-want +got):\n%s", diff)
	}
	if _, err := s.Load(ctx, "nobody@lab.test"); !errors.Is(err, ErrNoUser) {
		t.Errorf("Load(nobody) = %v", err)
	}
	e, _ := s.Entry(ctx, "bob@lab.test", "alice@lab.test")
	if e.Lists != RL {
		t.Errorf("Entry = %+v", e)
	}
	// Deleting with Lists 0.
	s.Commit(ctx, Change{Owner: "bob@lab.test", Contact: Contact{Email: "alice@lab.test"}})
	if e, _ := s.Entry(ctx, "bob@lab.test", "alice@lab.test"); e.Lists != 0 {
		t.Errorf("after delete Entry = %+v", e)
	}
}

func BenchmarkCheckPassword(b *testing.B) {
	ctx := context.Background()
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	s.AddUser(ctx, "alice@lab.test", "pw", "")
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := s.CheckPassword(ctx, "alice@lab.test", "pw"); err != nil {
				b.Error(err)
			}
		}
	})
}
