package chargedesk

import (
	"cmp"
	"slices"
	"time"
)

// TakeoverAuditKind is the audit kind the console records when an operator
// takes a conversation over from the agent (the entry's CommandID is the
// conversation's id).
const TakeoverAuditKind = "console.takeover"

// SupportConversation is what the support figures read of a conversation.
type SupportConversation struct {
	ID       string
	Channel  Channel
	Language string
	Category string
	Status   ConversationStatus
	// Ticket: a ticket was written for it. TakenOver: a person took part —
	// an operator took it over (TakeoverAuditKind), wrote in it, or
	// verified the driver.
	Ticket    bool
	TakenOver bool
	CreatedAt time.Time
	// FirstDriverAt is the driver's first message (zero: none);
	// ResolvedAt when the conversation was first marked resolved (zero:
	// never).
	FirstDriverAt time.Time
	ResolvedAt    time.Time
}

// ResolvedByAgent reports whether the conversation ended resolved with no
// person involved: resolved, no ticket, no takeover.
func (c SupportConversation) ResolvedByAgent() bool {
	return c.Status == ConversationResolved && !c.Ticket && !c.TakenOver
}

// Escalated reports whether the conversation went to people: escalated, a
// ticket, or a takeover.
func (c SupportConversation) Escalated() bool {
	return c.Status == ConversationEscalated || c.Ticket || c.TakenOver
}

// Count is a name and how many.
type Count struct {
	Name string
	N    int
}

// SupportDay is one UTC day's conversations.
type SupportDay struct {
	Day             time.Time
	Conversations   int
	ResolvedByAgent int
}

// SupportReport is the support figures of the conversations created in
// [From, To).
type SupportReport struct {
	From, To      time.Time
	Conversations int
	// ByChannel and ByLanguage count conversations, most first.
	ByChannel  []Count
	ByLanguage []Count
	// ResolvedByAgent counts those resolved with no person involved.
	ResolvedByAgent int
	// TimeToResolution is from the driver's first message to the first
	// time the conversation was marked resolved, over the conversations
	// resolved now: Resolutions of them, nearest-rank percentiles.
	Resolutions int
	P50, P95    time.Duration
	// Escalations counts the conversations that went to people, by their
	// category (most first; "unknown" when none was found).
	Escalations           int
	EscalationsByCategory []Count
	// Days holds every UTC day of the period, in order.
	Days []SupportDay
}

// MaxSupportDays bounds a support report's period.
const MaxSupportDays = 366

// SupportStats adds conversations up into a SupportReport.
type SupportStats struct {
	r           SupportReport
	channels    map[string]int
	languages   map[string]int
	categories  map[string]int
	resolutions []time.Duration
}

// NewSupportStats starts the figures of [from, to); from and to are taken
// as UTC days (to exclusive).
func NewSupportStats(from, to time.Time) *SupportStats {
	s := &SupportStats{channels: map[string]int{}, languages: map[string]int{}, categories: map[string]int{}}
	s.r.From, s.r.To = from.UTC(), to.UTC()
	for d := day(from); d.Before(to) && len(s.r.Days) < MaxSupportDays; d = d.AddDate(0, 0, 1) {
		s.r.Days = append(s.r.Days, SupportDay{Day: d})
	}
	return s
}

func day(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Add counts one conversation.
func (s *SupportStats) Add(c SupportConversation) {
	s.r.Conversations++
	s.channels[string(c.Channel)]++
	s.languages[c.Language]++
	agent := c.ResolvedByAgent()
	if agent {
		s.r.ResolvedByAgent++
	}
	if c.Status == ConversationResolved && !c.ResolvedAt.IsZero() && !c.FirstDriverAt.IsZero() && !c.ResolvedAt.Before(c.FirstDriverAt) {
		s.resolutions = append(s.resolutions, c.ResolvedAt.Sub(c.FirstDriverAt))
	}
	if c.Escalated() {
		s.r.Escalations++
		cat := c.Category
		if cat == "" {
			cat = "unknown"
		}
		s.categories[cat]++
	}
	if len(s.r.Days) > 0 {
		if i := int(day(c.CreatedAt).Sub(s.r.Days[0].Day) / (24 * time.Hour)); i >= 0 && i < len(s.r.Days) {
			s.r.Days[i].Conversations++
			if agent {
				s.r.Days[i].ResolvedByAgent++
			}
		}
	}
}

// Report returns the figures.
func (s *SupportStats) Report() *SupportReport {
	r := s.r
	r.ByChannel, r.ByLanguage, r.EscalationsByCategory = counts(s.channels), counts(s.languages), counts(s.categories)
	r.Resolutions = len(s.resolutions)
	slices.Sort(s.resolutions)
	r.P50, r.P95 = percentile(s.resolutions, 50), percentile(s.resolutions, 95)
	r.Days = slices.Clone(s.r.Days)
	return &r
}

// counts turns a map into Counts, most first, then by name.
func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, n := range m {
		out = append(out, Count{Name: k, N: n})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// percentile is the nearest-rank p-th percentile of sorted ds (0 when
// empty): the smallest value with at least p % of the values at or below
// it.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	rank := (p*len(ds) + 99) / 100 // ceil(p/100 × n)
	return ds[max(rank, 1)-1]
}
