package httpapi_test

import (
	"context"
	"errors"
	"time"

	"github.com/chargedesk/chargedesk"
)

// errNotSet is what a fake returns for a method whose function the test did
// not set; the API turns it into a 500 that the test then sees.
var errNotSet = errors.New("fake: method not set by the test")

// fakeStore is a chargedesk.Store whose every method calls the function
// field of the same name.
type fakeStore struct {
	RegisterChargerFn    func(ctx context.Context, reg chargedesk.ChargerRegistration) (*chargedesk.Charger, error)
	ChargerCredentialsFn func(ctx context.Context, id string) (string, chargedesk.RegistrationStatus, error)
	UpdateRegistrationFn func(ctx context.Context, id string, fn func(*chargedesk.ChargerRegistration) error) error
	DeleteTokenFn        func(ctx context.Context, idTag string) error
	ChargerFn            func(ctx context.Context, id string) (*chargedesk.Charger, error)
	ChargersFn           func(ctx context.Context, f chargedesk.ChargerFilter) ([]*chargedesk.Charger, error)
	UpdateChargerFn      func(ctx context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error)
	TouchChargersFn      func(ctx context.Context, seen, heartbeats map[string]time.Time) error
	DisconnectNodeFn     func(ctx context.Context, node string, at time.Time) error
	PutConnectorFn       func(ctx context.Context, c chargedesk.Connector) error
	StartTransactionFn   func(ctx context.Context, t *chargedesk.Transaction) (*chargedesk.Transaction, error)
	UpdateTransactionFn  func(ctx context.Context, t *chargedesk.Transaction) error
	TransactionFn        func(ctx context.Context, chargerID, id string) (*chargedesk.Transaction, error)
	TransactionsFn       func(ctx context.Context, f chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error)
	AppendMeterValuesFn  func(ctx context.Context, samples []chargedesk.MeterSample) error
	MeterValuesFn        func(ctx context.Context, chargerID, transactionID string, limit int) ([]chargedesk.MeterSample, error)
	PutTokenFn           func(ctx context.Context, t *chargedesk.Token) error
	TokenFn              func(ctx context.Context, idTag string) (*chargedesk.Token, error)
	TokensFn             func(ctx context.Context, f chargedesk.TokenFilter) ([]*chargedesk.Token, error)
	AppendEventsFn       func(ctx context.Context, events []chargedesk.Event) error
	RecentEventsFn       func(ctx context.Context, chargerID string, limit int) ([]chargedesk.Event, error)
	AppendAuditFn        func(ctx context.Context, e *chargedesk.AuditEntry) error
	AuditEntriesFn       func(ctx context.Context, f chargedesk.AuditFilter) ([]*chargedesk.AuditEntry, error)
	VerifyAuditFn        func(ctx context.Context) error
	PutSiteFn            func(ctx context.Context, site *chargedesk.Site) error
	SiteFn               func(ctx context.Context, id string) (*chargedesk.Site, error)
	SitesFn              func(ctx context.Context) ([]*chargedesk.Site, error)
	PutChargerLocationFn func(ctx context.Context, l chargedesk.ChargerLocation) error
	ChargerLocationsFn   func(ctx context.Context) ([]chargedesk.ChargerLocation, error)
	PutDriverFn          func(ctx context.Context, d *chargedesk.Driver) error
	DriverFn             func(ctx context.Context, id string) (*chargedesk.Driver, error)
	DriverByPhoneFn      func(ctx context.Context, phone string) (*chargedesk.Driver, error)
	CreateConversationFn func(ctx context.Context, c *chargedesk.Conversation) error
	ConversationFn       func(ctx context.Context, id string) (*chargedesk.Conversation, error)
	UpdateConversationFn func(ctx context.Context, id string, fn func(*chargedesk.Conversation) error) (*chargedesk.Conversation, error)
	ConversationsFn      func(ctx context.Context, f chargedesk.ConversationFilter) ([]*chargedesk.Conversation, error)
	AppendTurnFn         func(ctx context.Context, t *chargedesk.Turn) error
	TurnsFn              func(ctx context.Context, conversationID string) ([]chargedesk.Turn, error)
	CreateTicketFn       func(ctx context.Context, t *chargedesk.Ticket) error
	TicketFn             func(ctx context.Context, id string) (*chargedesk.Ticket, error)
	UpdateTicketFn       func(ctx context.Context, id string, fn func(*chargedesk.Ticket) error) (*chargedesk.Ticket, error)
	TicketsFn            func(ctx context.Context, f chargedesk.TicketFilter) ([]*chargedesk.Ticket, error)
	PingFn               func(ctx context.Context) error
	CloseFn              func() error

	AmendInterruptedTurnFn func(ctx context.Context, conversationID string, in chargedesk.Interruption) (*chargedesk.Turn, error)
}

var _ chargedesk.Store = (*fakeStore)(nil)

func (s *fakeStore) RegisterCharger(ctx context.Context, reg chargedesk.ChargerRegistration) (*chargedesk.Charger, error) {
	if s.RegisterChargerFn == nil {
		return nil, errNotSet
	}
	return s.RegisterChargerFn(ctx, reg)
}

func (s *fakeStore) ChargerCredentials(ctx context.Context, id string) (string, chargedesk.RegistrationStatus, error) {
	if s.ChargerCredentialsFn == nil {
		return "", "", errNotSet
	}
	return s.ChargerCredentialsFn(ctx, id)
}

func (s *fakeStore) DeleteToken(ctx context.Context, idTag string) error {
	if s.DeleteTokenFn == nil {
		return errNotSet
	}
	return s.DeleteTokenFn(ctx, idTag)
}

func (s *fakeStore) UpdateRegistration(ctx context.Context, id string, fn func(*chargedesk.ChargerRegistration) error) error {
	if s.UpdateRegistrationFn == nil {
		return errNotSet
	}
	return s.UpdateRegistrationFn(ctx, id, fn)
}

func (s *fakeStore) Charger(ctx context.Context, id string) (*chargedesk.Charger, error) {
	if s.ChargerFn == nil {
		return nil, errNotSet
	}
	return s.ChargerFn(ctx, id)
}

func (s *fakeStore) Chargers(ctx context.Context, f chargedesk.ChargerFilter) ([]*chargedesk.Charger, error) {
	if s.ChargersFn == nil {
		return nil, errNotSet
	}
	return s.ChargersFn(ctx, f)
}

func (s *fakeStore) UpdateCharger(ctx context.Context, id string, fn func(*chargedesk.Charger) error) (*chargedesk.Charger, error) {
	if s.UpdateChargerFn == nil {
		return nil, errNotSet
	}
	return s.UpdateChargerFn(ctx, id, fn)
}

func (s *fakeStore) TouchChargers(ctx context.Context, seen, heartbeats map[string]time.Time) error {
	if s.TouchChargersFn == nil {
		return errNotSet
	}
	return s.TouchChargersFn(ctx, seen, heartbeats)
}

func (s *fakeStore) DisconnectNode(ctx context.Context, node string, at time.Time) error {
	if s.DisconnectNodeFn == nil {
		return errNotSet
	}
	return s.DisconnectNodeFn(ctx, node, at)
}

func (s *fakeStore) PutConnector(ctx context.Context, c chargedesk.Connector) error {
	if s.PutConnectorFn == nil {
		return errNotSet
	}
	return s.PutConnectorFn(ctx, c)
}

func (s *fakeStore) StartTransaction(ctx context.Context, t *chargedesk.Transaction) (*chargedesk.Transaction, error) {
	if s.StartTransactionFn == nil {
		return nil, errNotSet
	}
	return s.StartTransactionFn(ctx, t)
}

func (s *fakeStore) UpdateTransaction(ctx context.Context, t *chargedesk.Transaction) error {
	if s.UpdateTransactionFn == nil {
		return errNotSet
	}
	return s.UpdateTransactionFn(ctx, t)
}

func (s *fakeStore) Transaction(ctx context.Context, chargerID, id string) (*chargedesk.Transaction, error) {
	if s.TransactionFn == nil {
		return nil, errNotSet
	}
	return s.TransactionFn(ctx, chargerID, id)
}

func (s *fakeStore) Transactions(ctx context.Context, f chargedesk.TransactionFilter) ([]*chargedesk.Transaction, error) {
	if s.TransactionsFn == nil {
		return nil, errNotSet
	}
	return s.TransactionsFn(ctx, f)
}

func (s *fakeStore) AppendMeterValues(ctx context.Context, samples []chargedesk.MeterSample) error {
	if s.AppendMeterValuesFn == nil {
		return errNotSet
	}
	return s.AppendMeterValuesFn(ctx, samples)
}

func (s *fakeStore) MeterValues(ctx context.Context, chargerID, transactionID string, limit int) ([]chargedesk.MeterSample, error) {
	if s.MeterValuesFn == nil {
		return nil, errNotSet
	}
	return s.MeterValuesFn(ctx, chargerID, transactionID, limit)
}

func (s *fakeStore) PutToken(ctx context.Context, t *chargedesk.Token) error {
	if s.PutTokenFn == nil {
		return errNotSet
	}
	return s.PutTokenFn(ctx, t)
}

func (s *fakeStore) Token(ctx context.Context, idTag string) (*chargedesk.Token, error) {
	if s.TokenFn == nil {
		return nil, errNotSet
	}
	return s.TokenFn(ctx, idTag)
}

func (s *fakeStore) Tokens(ctx context.Context, f chargedesk.TokenFilter) ([]*chargedesk.Token, error) {
	if s.TokensFn == nil {
		return nil, errNotSet
	}
	return s.TokensFn(ctx, f)
}

func (s *fakeStore) AppendEvents(ctx context.Context, events []chargedesk.Event) error {
	if s.AppendEventsFn == nil {
		return errNotSet
	}
	return s.AppendEventsFn(ctx, events)
}

func (s *fakeStore) RecentEvents(ctx context.Context, chargerID string, limit int) ([]chargedesk.Event, error) {
	if s.RecentEventsFn == nil {
		return nil, errNotSet
	}
	return s.RecentEventsFn(ctx, chargerID, limit)
}

func (s *fakeStore) AppendAudit(ctx context.Context, e *chargedesk.AuditEntry) error {
	if s.AppendAuditFn == nil {
		return errNotSet
	}
	return s.AppendAuditFn(ctx, e)
}

func (s *fakeStore) AuditEntries(ctx context.Context, f chargedesk.AuditFilter) ([]*chargedesk.AuditEntry, error) {
	if s.AuditEntriesFn == nil {
		return nil, errNotSet
	}
	return s.AuditEntriesFn(ctx, f)
}

func (s *fakeStore) VerifyAudit(ctx context.Context) error {
	if s.VerifyAuditFn == nil {
		return errNotSet
	}
	return s.VerifyAuditFn(ctx)
}

func (s *fakeStore) PutSite(ctx context.Context, site *chargedesk.Site) error {
	if s.PutSiteFn == nil {
		return errNotSet
	}
	return s.PutSiteFn(ctx, site)
}

func (s *fakeStore) Site(ctx context.Context, id string) (*chargedesk.Site, error) {
	if s.SiteFn == nil {
		return nil, errNotSet
	}
	return s.SiteFn(ctx, id)
}

func (s *fakeStore) Sites(ctx context.Context) ([]*chargedesk.Site, error) {
	if s.SitesFn == nil {
		return nil, errNotSet
	}
	return s.SitesFn(ctx)
}

func (s *fakeStore) PutChargerLocation(ctx context.Context, l chargedesk.ChargerLocation) error {
	if s.PutChargerLocationFn == nil {
		return errNotSet
	}
	return s.PutChargerLocationFn(ctx, l)
}

func (s *fakeStore) ChargerLocations(ctx context.Context) ([]chargedesk.ChargerLocation, error) {
	if s.ChargerLocationsFn == nil {
		return nil, errNotSet
	}
	return s.ChargerLocationsFn(ctx)
}

func (s *fakeStore) PutDriver(ctx context.Context, d *chargedesk.Driver) error {
	if s.PutDriverFn == nil {
		return errNotSet
	}
	return s.PutDriverFn(ctx, d)
}

func (s *fakeStore) Driver(ctx context.Context, id string) (*chargedesk.Driver, error) {
	if s.DriverFn == nil {
		return nil, errNotSet
	}
	return s.DriverFn(ctx, id)
}

func (s *fakeStore) DriverByPhone(ctx context.Context, phone string) (*chargedesk.Driver, error) {
	if s.DriverByPhoneFn == nil {
		return nil, errNotSet
	}
	return s.DriverByPhoneFn(ctx, phone)
}

func (s *fakeStore) CreateConversation(ctx context.Context, c *chargedesk.Conversation) error {
	if s.CreateConversationFn == nil {
		return errNotSet
	}
	return s.CreateConversationFn(ctx, c)
}

func (s *fakeStore) Conversation(ctx context.Context, id string) (*chargedesk.Conversation, error) {
	if s.ConversationFn == nil {
		return nil, errNotSet
	}
	return s.ConversationFn(ctx, id)
}

func (s *fakeStore) UpdateConversation(ctx context.Context, id string, fn func(*chargedesk.Conversation) error) (*chargedesk.Conversation, error) {
	if s.UpdateConversationFn == nil {
		return nil, errNotSet
	}
	return s.UpdateConversationFn(ctx, id, fn)
}

func (s *fakeStore) Conversations(ctx context.Context, f chargedesk.ConversationFilter) ([]*chargedesk.Conversation, error) {
	if s.ConversationsFn == nil {
		return nil, errNotSet
	}
	return s.ConversationsFn(ctx, f)
}

func (s *fakeStore) AppendTurn(ctx context.Context, t *chargedesk.Turn) error {
	if s.AppendTurnFn == nil {
		return errNotSet
	}
	return s.AppendTurnFn(ctx, t)
}

func (s *fakeStore) Turns(ctx context.Context, conversationID string) ([]chargedesk.Turn, error) {
	if s.TurnsFn == nil {
		return nil, errNotSet
	}
	return s.TurnsFn(ctx, conversationID)
}

func (s *fakeStore) AmendInterruptedTurn(ctx context.Context, conversationID string, in chargedesk.Interruption) (*chargedesk.Turn, error) {
	if s.AmendInterruptedTurnFn == nil {
		return nil, errNotSet
	}
	return s.AmendInterruptedTurnFn(ctx, conversationID, in)
}

func (s *fakeStore) CreateTicket(ctx context.Context, t *chargedesk.Ticket) error {
	if s.CreateTicketFn == nil {
		return errNotSet
	}
	return s.CreateTicketFn(ctx, t)
}

func (s *fakeStore) Ticket(ctx context.Context, id string) (*chargedesk.Ticket, error) {
	if s.TicketFn == nil {
		return nil, errNotSet
	}
	return s.TicketFn(ctx, id)
}

func (s *fakeStore) UpdateTicket(ctx context.Context, id string, fn func(*chargedesk.Ticket) error) (*chargedesk.Ticket, error) {
	if s.UpdateTicketFn == nil {
		return nil, errNotSet
	}
	return s.UpdateTicketFn(ctx, id, fn)
}

func (s *fakeStore) Tickets(ctx context.Context, f chargedesk.TicketFilter) ([]*chargedesk.Ticket, error) {
	if s.TicketsFn == nil {
		return nil, errNotSet
	}
	return s.TicketsFn(ctx, f)
}

func (s *fakeStore) Ping(ctx context.Context) error {
	if s.PingFn == nil {
		return errNotSet
	}
	return s.PingFn(ctx)
}

func (s *fakeStore) Close() error {
	if s.CloseFn == nil {
		return errNotSet
	}
	return s.CloseFn()
}

// fakeCommander is a chargedesk.Commander that calls SendFn.
type fakeCommander struct {
	SendFn func(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error)
}

var _ chargedesk.Commander = (*fakeCommander)(nil)

func (c *fakeCommander) Send(ctx context.Context, cmd chargedesk.Command) (chargedesk.Result, error) {
	if c.SendFn == nil {
		return chargedesk.Result{}, errNotSet
	}
	return c.SendFn(ctx, cmd)
}
