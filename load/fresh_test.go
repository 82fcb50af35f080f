package load

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeBlockSkipsBusyPorts(t *testing.T) {
	// Take one port inside the first candidate block: the search must move on by 1000.
	const from = 47100
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(from+17))
	if err != nil {
		t.Skipf("cannot take a test port: %v", err)
	}
	defer l.Close()
	got, err := freeBlock(from, 40)
	if err != nil {
		t.Fatal(err)
	}
	if got == from || (got-from)%1000 != 0 {
		t.Fatalf("free block at %d", got)
	}
	if _, err := freeBlock(64990, 40); err == nil {
		t.Fatal("a block past 65000 was offered")
	}
}
