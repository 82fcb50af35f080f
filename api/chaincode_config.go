// The chaincode's configuration file: what the network generates and every
// chaincode server reads.

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/domain/deadline"
)

// ChaincodeConfig is what every organisation's chaincode server is given, identically:
// endorsements only agree when all endorsers apply the same rules.
type ChaincodeConfig struct {
	Membership domain.Membership `json:"membership"`
	// ClockTolerance bounds |transaction timestamp − endorser clock|.
	ClockTolerance time.Duration `json:"-"`
	// LateRecordingDays bounds how far occurredOn may lie in the past.
	LateRecordingDays int `json:"lateRecordingDays"`
	// MaxPageSize caps every paginated query.
	MaxPageSize int             `json:"maxPageSize"`
	Deadlines   deadline.Config `json:"deadlines"`
	// Visibility: need to know (docs/visibility.md); optional in the file: auditor "hashes",
	// refusePublicDetails on.
	Visibility VisibilityConfig `json:"visibility"`
}

// VisibilityConfig holds the configured choices of the visibility policy. The network generates
// the private data collections from the same choice, so chaincode and collections agree.
type VisibilityConfig struct {
	// Auditor: "hashes" (default) or "details".
	Auditor domain.AuditorAccess `json:"auditor"`
	// RefusePublicDetails refuses a withheld detail sent as a public argument: arguments are
	// stored in the block for every member. The network generates it on
	// (network.Description.ChaincodeConfig), and a file that does not say parses as on: only an
	// explicit false turns it off. Private details in the transient map are accepted either way.
	RefusePublicDetails bool `json:"refusePublicDetails"`
}

// visibilityJSON is the file form of VisibilityConfig: an absent switch is told from false.
type visibilityJSON struct {
	Auditor             domain.AuditorAccess `json:"auditor"`
	RefusePublicDetails *bool                `json:"refusePublicDetails"`
}

// Policy is the visibility policy in force.
func (v VisibilityConfig) Policy() (domain.Visibility, error) { return domain.NewVisibility(v.Auditor) }

// Defaults for optional settings.
const (
	DefaultClockTolerance    = 5 * time.Minute
	DefaultLateRecordingDays = 30
	DefaultMaxPageSize       = 100
	maxConfigBytes           = 2 << 20
)

// chaincodeConfigJSON is the file form: the tolerance is a Go duration string ("5m").
type chaincodeConfigJSON struct {
	Membership        json.RawMessage `json:"membership"`
	ClockTolerance    *string         `json:"clockTolerance"`
	LateRecordingDays *int            `json:"lateRecordingDays"`
	MaxPageSize       *int            `json:"maxPageSize"`
	Deadlines         json.RawMessage `json:"deadlines"`
	Visibility        *visibilityJSON `json:"visibility"`
}

// MarshalJSON writes the file form.
func (c ChaincodeConfig) MarshalJSON() ([]byte, error) {
	tol := c.ClockTolerance.String()
	return json.Marshal(struct {
		Membership        domain.Membership `json:"membership"`
		ClockTolerance    string            `json:"clockTolerance"`
		LateRecordingDays int               `json:"lateRecordingDays"`
		MaxPageSize       int               `json:"maxPageSize"`
		Deadlines         deadline.Config   `json:"deadlines"`
		Visibility        VisibilityConfig  `json:"visibility"`
	}{c.Membership, tol, c.LateRecordingDays, c.MaxPageSize, c.Deadlines, c.Visibility})
}

// ParseChaincodeConfig strictly decodes and validates a configuration document.
// membership and deadlines are required; clockTolerance (default "5m"),
// lateRecordingDays (default 30), maxPageSize (default 100) and visibility (default auditor
// "hashes", refusePublicDetails true: a hand-written file that forgets the switch must not let
// another audience's details into a block every member reads) are optional.
func ParseChaincodeConfig(data []byte) (ChaincodeConfig, error) {
	if len(data) > maxConfigBytes {
		return ChaincodeConfig{}, fmt.Errorf("chaincode config: larger than %d bytes", maxConfigBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var raw chaincodeConfigJSON
	if err := dec.Decode(&raw); err != nil {
		return ChaincodeConfig{}, fmt.Errorf("chaincode config: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ChaincodeConfig{}, errors.New("chaincode config: trailing data")
	}
	if raw.Membership == nil || raw.Deadlines == nil {
		return ChaincodeConfig{}, errors.New("chaincode config: membership and deadlines are required")
	}
	m, err := domain.DecodeMembership(raw.Membership)
	if err != nil {
		return ChaincodeConfig{}, fmt.Errorf("chaincode config: %w", err)
	}
	var dl deadline.Config
	if err := json.Unmarshal(raw.Deadlines, &dl); err != nil {
		return ChaincodeConfig{}, fmt.Errorf("chaincode config: deadlines: %w", err)
	}
	cfg := ChaincodeConfig{
		Membership:        m,
		ClockTolerance:    DefaultClockTolerance,
		LateRecordingDays: DefaultLateRecordingDays,
		MaxPageSize:       DefaultMaxPageSize,
		Deadlines:         dl,
		Visibility:        VisibilityConfig{Auditor: domain.AuditorHashes, RefusePublicDetails: true},
	}
	if raw.ClockTolerance != nil {
		d, err := time.ParseDuration(*raw.ClockTolerance)
		if err != nil {
			return ChaincodeConfig{}, fmt.Errorf("chaincode config: clockTolerance: %w", err)
		}
		cfg.ClockTolerance = d
	}
	if raw.LateRecordingDays != nil {
		cfg.LateRecordingDays = *raw.LateRecordingDays
	}
	if raw.MaxPageSize != nil {
		cfg.MaxPageSize = *raw.MaxPageSize
	}
	if v := raw.Visibility; v != nil {
		if v.Auditor != "" {
			cfg.Visibility.Auditor = v.Auditor
		}
		if v.RefusePublicDetails != nil {
			cfg.Visibility.RefusePublicDetails = *v.RefusePublicDetails
		}
	}
	if err := cfg.Validate(); err != nil {
		return ChaincodeConfig{}, err
	}
	return cfg, nil
}

// Validate checks bounds and the embedded documents.
func (c ChaincodeConfig) Validate() error {
	if err := c.Membership.Validate(); err != nil {
		return fmt.Errorf("chaincode config: %w", err)
	}
	if err := c.Deadlines.Validate(); err != nil {
		return fmt.Errorf("chaincode config: deadlines: %w", err)
	}
	if c.ClockTolerance < time.Second || c.ClockTolerance > time.Hour {
		return errors.New("chaincode config: clockTolerance must lie between 1s and 1h")
	}
	if c.LateRecordingDays < 0 || c.LateRecordingDays > 365 {
		return errors.New("chaincode config: lateRecordingDays must lie between 0 and 365")
	}
	if c.MaxPageSize < 1 || c.MaxPageSize > 1000 {
		return errors.New("chaincode config: maxPageSize must lie between 1 and 1000")
	}
	if c.Visibility.Auditor != "" && !c.Visibility.Auditor.Valid() {
		return errors.New(`chaincode config: visibility.auditor must be "hashes" or "details"`)
	}
	return nil
}

// LoadChaincodeConfig reads and parses a configuration file.
func LoadChaincodeConfig(path string) (ChaincodeConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return ChaincodeConfig{}, fmt.Errorf("chaincode config: %w", err)
	}
	return ParseChaincodeConfig(data)
}
