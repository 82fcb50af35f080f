package deadline

import "errors"

// Sentinel errors. Every error returned by this package wraps one of them
// (with %w), so callers branch with errors.Is and never on message text.
var (
	// ErrInvalidDate: a date string is not a strict YYYY-MM-DD civil date,
	// or a computed date leaves the supported range (years 0001-9999).
	ErrInvalidDate = errors.New("deadline: invalid date")
	// ErrInvalidPeriod: a period is malformed, non-positive or out of bounds.
	ErrInvalidPeriod = errors.New("deadline: invalid period")
	// ErrInvalidHolidays: a submitted holiday list is malformed, unsorted,
	// duplicated, out of the supported years or too long.
	ErrInvalidHolidays = errors.New("deadline: invalid holiday calendar")
	// ErrNoWorkingDay: a calendar declared every day of a whole year non-working,
	// so a period cannot be moved to "the next working day".
	ErrNoWorkingDay = errors.New("deadline: no working day found")
	// ErrInvalidConfig: a Config fails validation.
	ErrInvalidConfig = errors.New("deadline: invalid config")
	// ErrUnknownRegime: a Regime value that has no rule table.
	ErrUnknownRegime = errors.New("deadline: unknown regime")
	// ErrNoRule: the regime has no such step (e.g. AMMR has no take back
	// request, Dublin III no take back notification).
	ErrNoRule = errors.New("deadline: no such rule in this regime")
	// ErrNoLimit: the regime has the step but the law (as far as verified)
	// sets no fixed time limit for it, and none is configured.
	ErrNoLimit = errors.New("deadline: no fixed time limit for this step")
	// ErrNotProvided: the regime's table does not provide the step for these
	// facts (an AMMR take charge re-examination without a configured row).
	ErrNotProvided = errors.New("deadline: step not provided by this regime")
	// ErrInvalidFacts: the facts given to a Clock function are incomplete or
	// contradictory (a missing start date, an appeal decided before acceptance).
	ErrInvalidFacts = errors.New("deadline: invalid facts")
	// ErrExtensionTooLate: the transfer period can no longer be extended
	// because the notice came after it had expired.
	ErrExtensionTooLate = errors.New("deadline: extension notified after the transfer deadline")
)
