// Package natsbus is chargedesk's message bus over NATS: the one path by
// which charger events leave the node that holds a charger's WebSocket, and by
// which commands reach that node from anywhere.
//
// It owns:
//
//   - the connection to NATS: an embedded nats-server run in-process with no
//     listening port when no URL is configured (optionally listening on a
//     host:port so that other nodes can join it), or a client connection with
//     reconnection to an external server or cluster;
//   - the subject layout and the escaping of charger ids into subject tokens
//     (see EscapeChargerID);
//   - event publication and subscription (PublishEvent, SubscribeEvents);
//   - the command request/reply protocol: ServeCharger answers commands for a
//     charger whose socket this node holds, and Bus.Send implements
//     chargedesk.Commander for any charger on any node;
//   - the hand-over of a charger from one node to another (newest wins);
//   - conversation changes (PublishConversation, SubscribeConversations),
//     published by NotifyingStore, the store decorator every writer of
//     conversations goes through, for the live views of the console and
//     the web chat on every node.
//
// Subjects, with the default prefix "chargedesk":
//
//	chargedesk.events.<id>.<type>  one chargedesk.Event as JSON
//	chargedesk.cmd.<id>            request: a chargedesk.Command as JSON;
//	                               reply: {"result":{...},"error":{"code","message"}}
//	chargedesk.ctl.serve.<id>      hand-over requests between nodes
//	chargedesk.conv.<cid>          one chargedesk.ConversationChange as JSON
//
// where <id> is the escaped charger id and <cid> the escaped conversation
// id (letters, digits and '-' as they are, any other byte as '_' and two
// hex digits). One node or many, the code path is the
// same: a single node simply talks to its own embedded server.
//
// natsbus does not hold sockets, store anything or decide what may be sent;
// csms, sqlstore and policy do.
package natsbus
