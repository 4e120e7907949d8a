package state

import (
	"fmt"
	"strings"
	"testing"
)

func TestMemStoreBags(t *testing.T) {
	s := NewMemStore()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	buf := []byte("v1")
	must(s.AppendBag([]byte("a/2"), buf))
	buf[1] = '2' // the store must have copied the value
	must(s.AppendBag([]byte("a/2"), buf))
	must(s.AppendBag([]byte("a/1"), []byte("x")))
	must(s.AppendBag([]byte("b/1"), []byte("y")))

	var got []string
	must(s.ReadBag([]byte("a/2"), func(v []byte) error { got = append(got, string(v)); return nil }))
	if strings.Join(got, ",") != "v1,v2" {
		t.Errorf("ReadBag = %v, want [v1 v2] in append order", got)
	}
	if n, _ := s.BagSize([]byte("a/2")); n != 2 {
		t.Errorf("BagSize = %d, want 2", n)
	}
	var keys []string
	must(s.ScanKeys([]byte("a/"), func(k []byte) error { keys = append(keys, string(k)); return nil }))
	if fmt.Sprint(keys) != "[a/1 a/2]" {
		t.Errorf("ScanKeys(a/) = %v, want [a/1 a/2]", keys)
	}
	must(s.ClearBag([]byte("a/1")))
	keys = nil
	must(s.ScanKeys(nil, func(k []byte) error { keys = append(keys, string(k)); return nil }))
	if fmt.Sprint(keys) != "[a/2 b/1]" {
		t.Errorf("after ClearBag, ScanKeys = %v, want [a/2 b/1]", keys)
	}
	if s.Bytes() != 5 {
		t.Errorf("Bytes = %d, want 5", s.Bytes())
	}
}
