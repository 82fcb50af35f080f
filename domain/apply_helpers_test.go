package domain

import (
	"testing"
	"time"

	"github.com/caseledger/caseledger/domain/deadline"
)

// holidayMap is an in-memory HolidaySource.
type holidayMap map[string]map[int]deadline.Holidays

func (h holidayMap) Holidays(ms string, year int) (deadline.Holidays, bool, error) {
	y, ok := h[ms][year]
	return y, ok, nil
}

func date(t testing.TB, s string) deadline.Date {
	t.Helper()
	d, err := deadline.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixture is a world for Apply: membership, a procedure's channel and a
// settable "today" (the same in every zone, which is what a midday
// transaction gives for European zones).
type fixture struct {
	t        testing.TB
	m        Membership
	today    deadline.Date
	holidays holidayMap
	late     int
}

func newFixture(t testing.TB, today string) *fixture {
	return &fixture{t: t, m: demoMembership(t), today: date(t, today), holidays: holidayMap{}, late: 30}
}

func (f *fixture) env(p Procedure) Env {
	ch, ok := f.m.ChannelFor(p)
	if !ok {
		f.t.Fatalf("no channel for %s", p)
	}
	return Env{
		Membership:     f.m,
		Channel:        ch,
		TxTime:         f.today.Time().Add(12 * time.Hour),
		Today:          func(string) deadline.Date { return f.today },
		LateWindowDays: f.late,
		Deadlines:      deadline.DefaultConfig(),
		Holidays:       f.holidays,
		TxID:           "00000000000000000000000000000000000000000000000000000000000000aa",
		RequestID:      "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6",
	}
}

func (f *fixture) actor(msp string, role Role) Actor {
	mem, ok := f.m.Member(msp)
	if !ok {
		f.t.Fatalf("unknown member %s", msp)
	}
	return Actor{Member: mem, Role: role}
}

const pseud = "6f1c2a9e-3b4d-4c5e-8f60-718293a4b5c6"

// input builds an event input dated today.
func (f *fixture) input(code EventCode, fields EventFields) EventInput {
	return EventInput{VocabularyVersion: VocabularyVersion, Code: code, OccurredOn: f.today.String(), EventFields: fields}
}

// step applies an event and fails the test on error.
func (f *fixture) step(prev *CaseState, p Procedure, a Actor, code EventCode, fields EventFields) *CaseState {
	f.t.Helper()
	next, _, err := Apply(prev, pseud, f.input(code, fields), a, f.env(p))
	if err != nil {
		f.t.Fatalf("%s by %s/%s from %s: %v", code, a.Member.MSPID, a.Role, statusOf(prev), err)
	}
	return &next
}

func ptr[T any](v T) *T { return &v }
