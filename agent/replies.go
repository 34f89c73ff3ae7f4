package agent

import "fmt"

// Reply keys. Every key has a text in English, Québec French and US
// Spanish (TestRepliesComplete checks it).
const (
	keyGreeting           = "greeting"
	keyAnythingElse       = "anything_else"
	keyCardNumberWarning  = "card_number_warning"
	keyRefuseInjection    = "refuse_injection"
	keyAskProblem         = "ask_problem"
	keyAskCharger         = "ask_charger"
	keyChargerNotFound    = "charger_not_found"
	keyAskChoose          = "ask_choose"
	keyAskConnector       = "ask_connector"
	keyAskIdentity        = "ask_identity"
	keyAskLast4           = "ask_last4"
	keyAskIdentityAgain   = "ask_identity_again"
	keyGoodbyeAgain       = "goodbye_again"
	keyAskStartOK         = "ask_start_ok"
	keyCardInUse          = "card_in_use"
	keyAskWhich           = "ask_which"
	keyAlso               = "also"
	keyVehicleLockAgain   = "vehicle_lock_again"
	keyAskStartOKAgain    = "ask_start_ok_again"
	keyStartDeclined      = "start_declined"
	keyDeclineFunds       = "decline_funds"
	keyDeclineIssuer      = "decline_issuer"
	keyDeclineProcessing  = "decline_processing"
	keyDeclineGeneric     = "decline_generic"
	keyAskLast4Again      = "ask_last4_again"
	keyAskConnectorAgain  = "ask_connector_again"
	keyAskProblemAgain    = "ask_problem_again"
	keyAskChooseAgain     = "ask_choose_again"
	keyAskTimeAgain       = "ask_start_time_again"
	keyAskAtCharger       = "ask_at_charger"
	keyAskAtChargerAgain  = "ask_at_charger_again"
	keyGoodbye            = "goodbye"
	keyGoodbyeLeave       = "goodbye_leave"
	keyStillWorking       = "still_working"
	keyWaitCardFreed      = "wait_card_freed"
	keyWaitCardFreedAgain = "wait_card_freed_again"
	keyInterrupted        = "interrupted"
	keyGoodbyeTicket      = "goodbye_ticket"
	keyTicketOpenAgain    = "ticket_open_again"
	keyNearestHere        = "nearest_here"
	keyAtChargerLater     = "at_charger_later"
	keyWaitPlugIn         = "wait_plug_in"
	keyNoContact          = "no_contact"
	keyPlugInAgain        = "plug_in_again"
	keyReplugAgain        = "replug_again"
	keyLast4NoMatch       = "last4_no_match"
	keyHandoff            = "handoff"
	keyNearest            = "nearest"
	keyNoAlternative      = "no_alternative"
	keyHardwareFault      = "hardware_fault"
	keyCouldNotFix        = "could_not_fix"
	keyVehicleSchedule    = "vehicle_schedule"
	keyStillSuspended     = "still_suspended"
	keyChargingResumed    = "charging_resumed"
	keyReplug             = "replug"
	keyPlugIn             = "plug_in"
	keyTicketMeanwhile    = "ticket_meanwhile"
	keyIdentityLater      = "identity_later"
	keyLast4Later         = "last4_later"
	keyNoCableSeen        = "no_cable_seen"
	keyCharging           = "charging"
	keyNowAvailable       = "now_available"
	keyReconnected        = "reconnected"
	keyOffline            = "offline"
	keyJustNow            = "just_now"
	keySomeoneElses       = "someone_elses"
	keySessionStopped     = "session_stopped"
	keyUnlocked           = "unlocked"
	keyCableOut           = "cable_out"
	keyVehicleLock        = "vehicle_lock"
	keyCarReleaseFirst    = "car_release_first"
	keyReconnecting       = "reconnecting"
	keyLockBroken         = "lock_broken"
	keyReaderTicket       = "reader_ticket"
	keyTokenBlocked       = "token_blocked"
	keyTokenExpired       = "token_expired"
	keyTokenUnknown       = "token_unknown"
	keyCardExpired        = "card_expired"
	keyHardDecline        = "hard_decline"
	keyCardNotUsable      = "card_not_usable"
	keyOfferPayLink       = "offer_pay_link"
	keyPayLinkSent        = "pay_link_sent"
	keyNotPaidYet         = "not_paid_yet"
	keyPayLinkPaid        = "pay_link_paid"
	keyPayAlternatives    = "pay_alternatives"
	keyPaymentOK          = "payment_ok"
	keyHoldsReleased      = "holds_released"
	keyBillingTicket      = "billing_ticket"
	keySlowNoSession      = "slow_no_session"
	keySlowTaper          = "slow_taper"
	keySlowLow            = "slow_low"
	keySlowNormal         = "slow_normal"
	keySlowNormalUnrated  = "slow_normal_unrated"
	keySlowTicket         = "slow_ticket"
	keyDamageUnsafe       = "damage_unsafe"
	keyDamageTicket       = "damage_ticket"
	keyTicketOpen         = "ticket_open"
	keyAskStartTime       = "ask_start_time"
	keyStartTimeLater     = "start_time_later"
	keyNewCardNotSeen     = "new_card_not_seen"
	keyAgentPaused        = "agent_paused"
	keyTakenOver          = "taken_over"
	keyHandedBack         = "handed_back"
)

// replies holds the texts by key, then language. Arguments are numbered so
// that each language may order them as it needs.
var replies = map[string]map[string]string{
	keyGreeting: {
		"en": "Hi, this is charging support. What's going on, and which charger are you at (the ID on its label, or the place)?",
		"fr": "Bonjour, ici le soutien à la recharge. Qu'est-ce qui se passe, et à quelle borne êtes-vous (le numéro sur l'étiquette, ou l'endroit)?",
		"es": "Hola, le atiende soporte de carga. ¿Qué pasa y en qué cargador está (el ID de la etiqueta o el lugar)?",
	},
	keyTakenOver: {
		"en": "A person from our support team is taking over this conversation now. They'll answer you here.",
		"fr": "Une personne de notre équipe de soutien prend maintenant le relais de cette conversation. Elle vous répondra ici.",
		"es": "Una persona de nuestro equipo de soporte se hace cargo de esta conversación ahora. Le responderá por aquí.",
	},
	keyHandedBack: {
		"en": "You're back with the automated assistant. Tell me if there's anything else I can help with.",
		"fr": "Vous êtes de retour avec l'assistant automatisé. Dites-moi si je peux vous aider avec autre chose.",
		"es": "Está de nuevo con el asistente automático. Dígame si le puedo ayudar con algo más.",
	},
	keyAnythingElse: {
		"en": "Is there anything else I can help with?",
		"fr": "Puis-je vous aider avec autre chose?",
		"es": "¿Le puedo ayudar con algo más?",
	},
	keyCardNumberWarning: {
		"en": "Please never send a full card number: I removed it from this conversation. I only ever need the last 4 digits.",
		"fr": "N'envoyez jamais un numéro de carte complet : je l'ai retiré de la conversation. Je n'ai besoin que des 4 derniers chiffres.",
		"es": "Nunca envíe el número completo de su tarjeta: lo quité de esta conversación. Solo necesito los últimos 4 dígitos.",
	},
	keyRefuseInjection: {
		"en": "I can't do that. I can only help with your own charging session, within the operator's rules.",
		"fr": "Je ne peux pas faire ça. Je peux seulement vous aider avec votre propre recharge, selon les règles de l'exploitant.",
		"es": "No puedo hacer eso. Solo puedo ayudarle con su propia sesión de carga, dentro de las reglas del operador.",
	},
	keyAskProblem: {
		"en": "Tell me what's happening: won't start, card refused, payment declined, cable stuck, charger offline, slow charging?",
		"fr": "Dites-moi ce qui se passe : la recharge ne démarre pas, carte refusée, paiement refusé, câble coincé, borne hors ligne, recharge lente?",
		"es": "Dígame qué pasa: no arranca, tarjeta rechazada, pago rechazado, cable atascado, cargador desconectado, carga lenta?",
	},
	keyAskCharger: {
		"en": "Which charger are you at? The ID is on the label (like ABC-TOR-0042), or tell me the place and street.",
		"fr": "À quelle borne êtes-vous? Le numéro est sur l'étiquette (comme ABC-MTL-0042), ou dites-moi l'endroit et la rue.",
		"es": "¿En qué cargador está? El ID está en la etiqueta (como ABC-LAX-0042), o dígame el lugar y la calle.",
	},
	keyChargerNotFound: {
		"en": "I couldn't find that charger. Could you read me the ID on its label?",
		"fr": "Je ne trouve pas cette borne. Pouvez-vous me lire le numéro sur son étiquette?",
		"es": "No encontré ese cargador. ¿Me puede leer el ID de su etiqueta?",
	},
	keyAskChoose: {
		"en": "I found several chargers there: %[1]s. Which one are you at (number or label ID)?",
		"fr": "J'ai trouvé plusieurs bornes à cet endroit : %[1]s. Laquelle est la vôtre (numéro ou identifiant sur l'étiquette)?",
		"es": "Encontré varios cargadores ahí: %[1]s. ¿En cuál está (número o ID de la etiqueta)?",
	},
	keyAskIdentityAgain: {
		"en": "I can only act on a session or a card for the person it belongs to, so I look up your account by its phone number. What is that number, with the area code (like 555 123 4567)?",
		"fr": "Je ne peux agir sur une recharge ou une carte que pour son titulaire; je retrouve donc votre compte par son numéro de téléphone. Quel est ce numéro, avec l'indicatif régional (par exemple 514 555 1234)?",
		"es": "Solo puedo actuar sobre una sesión o una tarjeta para su titular, así que busco su cuenta por su número de teléfono. ¿Cuál es ese número, con el código de área (por ejemplo 555 123 4567)?",
	},
	keyAskLast4Again: {
		"en": "To be sure it's you, I need only the last 4 digits of the payment card saved on your account — never the full number. What are those 4 digits?",
		"fr": "Pour être sûr que c'est vous, il me faut seulement les 4 derniers chiffres de la carte de paiement enregistrée à votre compte — jamais le numéro complet. Quels sont ces 4 chiffres?",
		"es": "Para asegurarme de que es usted, necesito solo los últimos 4 dígitos de la tarjeta de pago guardada en su cuenta, nunca el número completo. ¿Cuáles son esos 4 dígitos?",
	},
	keyAskConnectorAgain: {
		"en": "The connector number is printed on the plug's holster or above it (1 to %[2]d on %[1]s). If you can't see one, tell me the plug type: CCS, NACS (Tesla), CHAdeMO or J1772.",
		"fr": "Le numéro du connecteur est inscrit sur le support de la fiche ou au-dessus (1 à %[2]d sur %[1]s). Si vous ne le voyez pas, dites-moi le type de fiche : CCS, NACS (Tesla), CHAdeMO ou J1772.",
		"es": "El número del conector está impreso en el soporte del conector o encima (1 a %[2]d en %[1]s). Si no lo ve, dígame el tipo de conector: CCS, NACS (Tesla), CHAdeMO o J1772.",
	},
	keyAskProblemAgain: {
		"en": "Tell me in a few words what happens at the charger — for example: it won't start, my card is refused, the payment failed, the screen is off, or the cable won't come out.",
		"fr": "Dites-moi en quelques mots ce qui se passe à la borne — par exemple : elle ne démarre pas, ma carte est refusée, le paiement a échoué, l'écran est éteint ou le câble ne sort pas.",
		"es": "Dígame en pocas palabras qué pasa en el cargador; por ejemplo: no arranca, rechaza mi tarjeta, falló el pago, la pantalla está apagada o el cable no sale.",
	},
	keyAskChooseAgain: {
		"en": "Which of those %[1]d chargers are you at? Reply with its number in my list, or the ID on the charger's label.",
		"fr": "À laquelle de ces %[1]d bornes êtes-vous? Répondez par son numéro dans ma liste, ou l'identifiant sur l'étiquette de la borne.",
		"es": "¿En cuál de esos %[1]d cargadores está? Responda con su número en mi lista o con el ID de la etiqueta del cargador.",
	},
	keyAskTimeAgain: {
		"en": "A rough time is enough, like \"20 minutes ago\" or \"around 2 pm\": it tells me the last session on this connector was yours.",
		"fr": "Une heure approximative suffit, par exemple « il y a 20 minutes » ou « vers 14 h » : ça me confirme que la dernière recharge de ce connecteur était la vôtre.",
		"es": "Basta una hora aproximada, como \"hace 20 minutos\" o \"como a las 2 pm\": me confirma que la última sesión en este conector fue suya.",
	},
	keyAskAtCharger: {
		"en": "No session is running on connector %[2]d of %[1]s, so I can release the cable. Are you at the charger now, with the cable still in your car? Reply yes and I'll unlock it.",
		"fr": "Aucune recharge n'est en cours sur le connecteur %[2]d de %[1]s, je peux donc libérer le câble. Êtes-vous à la borne en ce moment, avec le câble encore branché au véhicule? Répondez oui et je le déverrouille.",
		"es": "No hay ninguna sesión en el conector %[2]d de %[1]s, así que puedo liberar el cable. ¿Está en el cargador ahora, con el cable todavía en su auto? Responda sí y lo desbloqueo.",
	},
	keyAskAtChargerAgain: {
		"en": "I release a cable only while someone is there to take it out. Are you standing at %[1]s now? Please answer yes or no.",
		"fr": "Je libère un câble seulement quand quelqu'un est là pour le retirer. Êtes-vous devant la borne %[1]s en ce moment? Répondez oui ou non.",
		"es": "Solo libero un cable cuando hay alguien ahí para sacarlo. ¿Está junto al cargador %[1]s ahora? Responda sí o no.",
	},
	keyAtChargerLater: {
		"en": "All right. Write to me when you're at %[1]s and I'll release the cable then.",
		"fr": "D'accord. Écrivez-moi quand vous serez à la borne %[1]s et je libérerai le câble à ce moment-là.",
		"es": "De acuerdo. Escríbame cuando esté en el cargador %[1]s y liberaré el cable entonces.",
	},
	keyWaitPlugIn: {
		"en": "No rush. Plug the cable into your car and tell me when it's in; I'll start the charge then.",
		"fr": "Prenez votre temps. Branchez le câble au véhicule et dites-le-moi; je lancerai la recharge à ce moment-là.",
		"es": "Sin prisa. Conecte el cable a su auto y avíseme cuando esté conectado; entonces inicio la carga.",
	},
	keyNoContact: {
		"en": "never",
		"fr": "jamais",
		"es": "nunca",
	},
	keyPlugInAgain: {
		"en": "I can start the charge from here once the cable is in your car (connector %[1]d). Is it plugged in now? Reply yes when it is.",
		"fr": "Je peux lancer la recharge d'ici dès que le câble est branché au véhicule (connecteur %[1]d). Est-il branché maintenant? Répondez oui quand c'est fait.",
		"es": "Puedo iniciar la carga desde aquí cuando el cable esté en su auto (conector %[1]d). ¿Ya está conectado? Responda sí cuando lo esté.",
	},
	keyReplugAgain: {
		"en": "Re-seating the plug lets the car and the charger start over. Once you've pulled it out and pushed it back in until it clicks, reply yes.",
		"fr": "Rebrancher la fiche permet au véhicule et à la borne de recommencer. Quand vous l'avez retirée puis remise jusqu'au clic, répondez oui.",
		"es": "Volver a conectar el conector permite que el auto y el cargador empiecen de nuevo. Cuando lo haya sacado y vuelto a meter hasta el clic, responda sí.",
	},
	keyGoodbye: {
		"en": "You're welcome — have a good charge!",
		"fr": "Avec plaisir — bonne recharge!",
		"es": "¡Con gusto! Que tenga buena carga.",
	},
	keyGoodbyeLeave: {
		"en": "You're welcome — safe travels!",
		"fr": "Avec plaisir — bonne route!",
		"es": "¡Con gusto! Que le vaya bien.",
	},
	keyGoodbyeAgain: {
		"en": "Take care, and safe driving!",
		"fr": "Bonne route, et prenez soin de vous!",
		"es": "¡Cuídese y buen viaje!",
	},
	keyVehicleLockAgain: {
		"en": "The plug is held on the car's side now. Unlock the car with its key fob or app, or press the charge-port release, then pull the cable. Did it come out?",
		"fr": "La fiche est retenue du côté du véhicule. Déverrouillez-le avec la clé ou l'appli, ou utilisez le déverrouillage du port de recharge, puis tirez le câble. Est-il sorti?",
		"es": "El conector está retenido del lado del auto. Desbloquee el auto con el control o la app, o use la liberación del puerto de carga, y luego saque el cable. ¿Salió?",
	},
	keyAskWhich: {
		"en": "Just to be sure I fix the right thing: is it that %[1]s, or that %[2]s?",
		"fr": "Pour être sûr de régler le bon problème : est-ce que %[1]s, ou que %[2]s?",
		"es": "Para asegurarme de resolver lo correcto: ¿es que %[1]s, o que %[2]s?",
	},
	keyAlso: {
		"en": "You also mentioned that %[1]s. Is that still a problem? Tell me and I'll look at it.",
		"fr": "Vous avez aussi mentionné que %[1]s. Est-ce encore un problème? Dites-le-moi et je m'en occupe.",
		"es": "También mencionó que %[1]s. ¿Sigue siendo un problema? Dígame y lo reviso.",
	},
	keyCardInUse: {
		"en": "The charger tried to start, but your card is already in a session on another charger, so the session was refused. Stop that session first (in the app or at that charger), then tell me and I'll start this one.",
		"fr": "La borne a essayé de démarrer, mais votre carte est déjà utilisée pour une recharge sur une autre borne, alors la session a été refusée. Arrêtez d'abord cette recharge (dans l'appli ou à cette borne), puis dites-le-moi et je lance celle-ci.",
		"es": "El cargador intentó iniciar, pero su tarjeta ya está en una sesión en otro cargador, así que la sesión fue rechazada. Detenga primero esa sesión (en la app o en ese cargador) y avíseme para iniciar esta.",
	},
	keyAskStartOK: {
		"en": "Your car looks plugged in to connector %[1]d at %[2]s, but nothing is charging. Do you want me to start the charge now? Please answer yes or no.",
		"fr": "Votre véhicule semble branché au connecteur %[1]d à %[2]s, mais rien ne charge. Voulez-vous que je lance la recharge maintenant? Répondez oui ou non.",
		"es": "Su auto parece conectado al conector %[1]d en %[2]s, pero no está cargando. ¿Quiere que inicie la carga ahora? Responda sí o no.",
	},
	keyAskStartOKAgain: {
		"en": "I only start a charge when you ask for it. Should I start charging on connector %[1]d now, yes or no?",
		"fr": "Je lance une recharge seulement si vous le demandez. Dois-je lancer la recharge sur le connecteur %[1]d maintenant, oui ou non?",
		"es": "Solo inicio una carga si usted lo pide. ¿Inicio la carga en el conector %[1]d ahora, sí o no?",
	},
	keyStartDeclined: {
		"en": "All right, I won't start anything. What's going on at the charger — for example, the cable won't come out, or the screen shows an error?",
		"fr": "D'accord, je ne lance rien. Que se passe-t-il à la borne — par exemple, le câble ne sort pas, ou l'écran affiche une erreur?",
		"es": "De acuerdo, no inicio nada. ¿Qué pasa en el cargador? Por ejemplo, el cable no sale o la pantalla muestra un error.",
	},
	keyDeclineFunds: {
		"en": "insufficient funds",
		"fr": "fonds insuffisants",
		"es": "fondos insuficientes",
	},
	keyDeclineIssuer: {
		"en": "the card issuer refused the payment",
		"fr": "l'émetteur de la carte a refusé le paiement",
		"es": "el emisor de la tarjeta rechazó el pago",
	},
	keyDeclineProcessing: {
		"en": "the card network did not give an answer",
		"fr": "le réseau de cartes n'a pas donné de réponse",
		"es": "la red de tarjetas no dio respuesta",
	},
	keyDeclineGeneric: {
		"en": "no reason given",
		"fr": "aucune raison donnée",
		"es": "sin motivo indicado",
	},
	keyGoodbyeTicket: {
		"en": "You're welcome. Our team keeps ticket %[1]s and will follow up with you.",
		"fr": "Avec plaisir. Notre équipe garde le billet %[1]s et fera le suivi avec vous.",
		"es": "Con gusto. Nuestro equipo tiene el ticket %[1]s y le dará seguimiento.",
	},
	keyTicketOpenAgain: {
		"en": "Ticket %[1]s is still with our team; there is nothing more I can change on it from here. If it's something else, tell me what happens at the charger.",
		"fr": "Le billet %[1]s est toujours entre les mains de notre équipe; je ne peux rien y changer d'ici. Si c'est autre chose, dites-moi ce qui se passe à la borne.",
		"es": "El ticket %[1]s sigue con nuestro equipo; desde aquí no puedo cambiar nada más. Si es otra cosa, dígame qué pasa en el cargador.",
	},
	keyNearestHere: {
		"en": "At the same site, charger %[1]s connector %[2]d (%[3]s %.0[4]f kW) is available for your car.",
		"fr": "Au même endroit, la borne %[1]s connecteur %[2]d (%[3]s %.0[4]f kW) est disponible pour votre véhicule.",
		"es": "En el mismo sitio, el cargador %[1]s conector %[2]d (%[3]s %.0[4]f kW) está disponible para su auto.",
	},
	keyAskConnector: {
		"en": "Charger %[1]s has %[2]d connectors. Which connector number are you using?",
		"fr": "La borne %[1]s a %[2]d connecteurs. Quel numéro de connecteur utilisez-vous?",
		"es": "El cargador %[1]s tiene %[2]d conectores. ¿Qué número de conector está usando?",
	},
	keyAskIdentity: {
		"en": "To act on your session I need to confirm your account: what's the phone number on your account?",
		"fr": "Pour agir sur votre recharge, je dois confirmer votre compte : quel est le numéro de téléphone du compte?",
		"es": "Para actuar en su sesión necesito confirmar su cuenta: ¿cuál es el teléfono de su cuenta?",
	},
	keyTicketMeanwhile: {
		"en": "Our team has it (ticket %[1]s).",
		"fr": "Notre équipe s'en occupe (billet %[1]s).",
		"es": "Nuestro equipo ya lo tiene (ticket %[1]s).",
	},
	keyIdentityLater: {
		"en": "All right, I won't do anything for now. If you'd like me to act on your charge, send me the phone number on your account.",
		"fr": "D'accord, je ne fais rien pour l'instant. Si vous voulez que j'agisse sur votre recharge, écrivez-moi le numéro de téléphone de votre compte.",
		"es": "De acuerdo, no haré nada por ahora. Si quiere que actúe en su sesión, envíeme el teléfono de su cuenta.",
	},
	keyLast4Later: {
		"en": "All right, I won't do anything for now. If you'd like me to act on your charge, send me the last 4 digits of the payment card on your account.",
		"fr": "D'accord, je ne fais rien pour l'instant. Si vous voulez que j'agisse sur votre recharge, écrivez-moi les 4 derniers chiffres de la carte de paiement de votre compte.",
		"es": "De acuerdo, no haré nada por ahora. Si quiere que actúe en su sesión, envíeme los últimos 4 dígitos de la tarjeta de pago de su cuenta.",
	},
	keyAskLast4: {
		"en": "Thanks. To confirm it's you, what are the last 4 digits of the payment card on your account?",
		"fr": "Merci. Pour confirmer que c'est bien vous, quels sont les 4 derniers chiffres de la carte de paiement de votre compte?",
		"es": "Gracias. Para confirmar que es usted, ¿cuáles son los últimos 4 dígitos de la tarjeta de pago de su cuenta?",
	},
	keyLast4NoMatch: {
		"en": "Those digits don't match a card on the account.",
		"fr": "Ces chiffres ne correspondent à aucune carte du compte.",
		"es": "Esos dígitos no coinciden con ninguna tarjeta de la cuenta.",
	},
	keyHandoff: {
		"en": "I've passed this to a support agent with everything I found (ticket %[1]s). They usually reply within 15 minutes during opening hours.",
		"fr": "J'ai transmis votre dossier à un agent avec tout ce que j'ai trouvé (billet %[1]s). Il répond habituellement en moins de 15 minutes pendant les heures d'ouverture.",
		"es": "Pasé su caso a un agente con todo lo que encontré (ticket %[1]s). Suele responder en menos de 15 minutos en horario de atención.",
	},
	keyNearest: {
		"en": "Nearest available charger for your car: %[1]s, %[2]s (%[3]s away), charger %[4]s connector %[5]d, %[6]s %.0[7]f kW.",
		"fr": "Borne disponible la plus proche pour votre véhicule : %[1]s, %[2]s (à %[3]s), borne %[4]s connecteur %[5]d, %[6]s %.0[7]f kW.",
		"es": "Cargador disponible más cercano para su auto: %[1]s, %[2]s (a %[3]s), cargador %[4]s conector %[5]d, %[6]s %.0[7]f kW.",
	},
	keyNoAlternative: {
		"en": "I don't see another available compatible charger nearby right now.",
		"fr": "Je ne vois pas d'autre borne compatible disponible à proximité en ce moment.",
		"es": "No veo otro cargador compatible disponible cerca en este momento.",
	},
	keyHardwareFault: {
		"en": "This charger has a power fault that can't be fixed remotely. I've opened a repair ticket (%[1]s) with the details for the field team; repairs are usually scheduled within 1 business day.",
		"fr": "Cette borne a une panne d'alimentation qui ne se règle pas à distance. J'ai ouvert un billet de réparation (%[1]s) pour l'équipe terrain; les réparations sont habituellement planifiées en 1 jour ouvrable.",
		"es": "Este cargador tiene una falla de energía que no se puede arreglar a distancia. Abrí un ticket de reparación (%[1]s) para el equipo técnico; normalmente se programa en 1 día hábil.",
	},
	keyCouldNotFix: {
		"en": "I couldn't fix this remotely, so I've sent the details to the field team (ticket %[1]s); they usually act within 1 business day.",
		"fr": "Je n'ai pas pu régler le problème à distance; j'ai envoyé les détails à l'équipe terrain (billet %[1]s), qui intervient habituellement en 1 jour ouvrable.",
		"es": "No pude arreglarlo a distancia; envié los detalles al equipo técnico (ticket %[1]s), que suele actuar en 1 día hábil.",
	},
	keyVehicleSchedule: {
		"en": "The charger is working: your car is refusing power, usually because of a charging schedule or departure time set in the car. Turn off the schedule (or choose 'charge now') in the car or its app, then tell me.",
		"fr": "La borne fonctionne : c'est le véhicule qui refuse la recharge, souvent à cause d'une recharge programmée. Désactivez la programmation (ou choisissez « recharger maintenant ») dans le véhicule ou son appli, puis dites-le-moi.",
		"es": "El cargador funciona: su auto está rechazando la energía, normalmente por un horario de carga programado. Desactive el horario (o elija 'cargar ahora') en el auto o su app y avíseme.",
	},
	keyStillSuspended: {
		"en": "The car is still not accepting power. Check the charging schedule or departure time in the car's settings, then tell me again.",
		"fr": "Le véhicule n'accepte toujours pas la recharge. Vérifiez la recharge programmée dans ses réglages, puis redites-le-moi.",
		"es": "El auto todavía no acepta energía. Revise el horario de carga en la configuración del auto y avíseme de nuevo.",
	},
	keyChargingResumed: {
		"en": "Power is flowing now on connector %[1]d. You're charging.",
		"fr": "L'énergie circule maintenant sur le connecteur %[1]d. La recharge est en cours.",
		"es": "Ya está pasando energía por el conector %[1]d. Está cargando.",
	},
	keyReplug: {
		"en": "The charger and your car didn't complete their handshake. Please unplug the cable, plug it back in firmly until it clicks, then reply 'done' and I'll start the session.",
		"fr": "La borne et le véhicule n'ont pas réussi à communiquer. Débranchez le câble, rebranchez-le bien jusqu'au clic, puis répondez « fait » et je démarre la recharge.",
		"es": "El cargador y su auto no completaron la comunicación. Desconecte el cable, vuelva a conectarlo firme hasta el clic y responda 'listo' para que inicie la sesión.",
	},
	keyNoCableSeen: {
		"en": "I just asked %[2]s and it still sees no cable in connector %[1]d. Check that you're at connector %[1]d, push the plug into your car until it clicks, then reply.",
		"fr": "Je viens de demander à la borne %[2]s : elle ne voit toujours pas de câble au connecteur %[1]d. Vérifiez que vous êtes bien au connecteur %[1]d, enfoncez la fiche dans l'auto jusqu'au clic, puis répondez-moi.",
		"es": "Acabo de consultar el cargador %[2]s y todavía no detecta un cable en el conector %[1]d. Verifique que está en el conector %[1]d, empuje el conector en su auto hasta el clic y respóndame.",
	},
	keyPlugIn: {
		"en": "Please plug the cable into connector %[1]d, then reply and I'll start the session.",
		"fr": "Branchez le câble sur le connecteur %[1]d, puis répondez-moi et je démarre la recharge.",
		"es": "Conecte el cable en el conector %[1]d y respóndame para iniciar la sesión.",
	},
	keyCharging: {
		"en": "Done: your session has started on connector %[1]d at %[2]s. You're charging.",
		"fr": "C'est fait : votre recharge a commencé sur le connecteur %[1]d à %[2]s.",
		"es": "Listo: su sesión empezó en el conector %[1]d en %[2]s. Ya está cargando.",
	},
	keyNowAvailable: {
		"en": "Connector %[1]d at %[2]s is available again. Plug in and tap your card or start in the app, or reply and I'll start it for you.",
		"fr": "Le connecteur %[1]d à %[2]s est de nouveau disponible. Branchez-vous et passez votre carte ou utilisez l'appli, ou répondez-moi et je la démarre.",
		"es": "El conector %[1]d en %[2]s está disponible otra vez. Conéctese y pase su tarjeta o use la app, o respóndame y la inicio yo.",
	},
	keyReconnected: {
		"en": "The charger lost its connection for a moment and is back online.",
		"fr": "La borne a perdu sa connexion un instant et est de retour en ligne.",
		"es": "El cargador perdió la conexión un momento y ya volvió a estar en línea.",
	},
	keyOffline: {
		"en": "Charger %[1]s is offline (last contact: %[2]s), so I can't send it anything right now. I've reported the outage (ticket %[3]s).",
		"fr": "La borne %[1]s est hors ligne (dernier contact : %[2]s); je ne peux rien lui envoyer pour l'instant. J'ai signalé la panne (billet %[3]s).",
		"es": "El cargador %[1]s está sin conexión (último contacto: %[2]s), así que no puedo enviarle nada ahora. Reporté la falla (ticket %[3]s).",
	},
	keyJustNow: {
		"en": "less than a minute ago",
		"fr": "il y a moins d'une minute",
		"es": "hace menos de un minuto",
	},
	keySomeoneElses: {
		"en": "That connector is in use by another driver's active session, so I can't stop it or release the cable. I've asked a support agent to look into it (ticket %[1]s).",
		"fr": "Ce connecteur est utilisé par la recharge en cours d'un autre conducteur; je ne peux ni l'arrêter ni libérer le câble. J'ai demandé à un agent de s'en occuper (billet %[1]s).",
		"es": "Ese conector está en uso por la sesión activa de otro conductor, así que no puedo detenerla ni liberar el cable. Le pedí a un agente que lo revise (ticket %[1]s).",
	},
	keySessionStopped: {
		"en": "I've ended your session.",
		"fr": "J'ai terminé votre recharge.",
		"es": "Terminé su sesión.",
	},
	keyUnlocked: {
		"en": "Connector %[1]d at %[2]s is unlocked — you can remove the cable now. Tell me if it's still stuck.",
		"fr": "Le connecteur %[1]d à %[2]s est déverrouillé — vous pouvez retirer le câble. Dites-moi s'il reste coincé.",
		"es": "El conector %[1]d en %[2]s está desbloqueado: ya puede sacar el cable. Avíseme si sigue atascado.",
	},
	keyCableOut: {
		"en": "The charger shows the cable is out. All set.",
		"fr": "La borne indique que le câble est retiré. Tout est réglé.",
		"es": "El cargador indica que el cable ya salió. Todo listo.",
	},
	keyVehicleLock: {
		"en": "The charger has released its side, so your car is holding the plug. Unlock the car (key fob or app), or use the car's charge-port release button or app setting, then pull the cable.",
		"fr": "La borne a libéré son côté : c'est le véhicule qui retient la fiche. Déverrouillez le véhicule (clé ou appli) ou utilisez le bouton ou le réglage de déverrouillage du port de recharge, puis retirez le câble.",
		"es": "El cargador ya liberó su lado, así que es su auto el que retiene el conector. Desbloquee el auto (llave o app) o use el botón o ajuste de liberación del puerto de carga y luego saque el cable.",
	},
	keyCarReleaseFirst: {
		"en": "Many cars hold the plug until the car itself is unlocked. Unlock the car (key fob or app), or use the car's charge-port release button or app setting, then pull the cable. Tell me if it's still stuck.",
		"fr": "Plusieurs véhicules retiennent la fiche tant qu'ils sont verrouillés. Déverrouillez le véhicule (clé ou appli) ou utilisez le bouton ou le réglage de déverrouillage du port de recharge, puis retirez le câble. Dites-moi s'il reste coincé.",
		"es": "Muchos autos retienen el conector mientras están bloqueados. Desbloquee el auto (llave o app) o use el botón o ajuste de liberación del puerto de carga y luego saque el cable. Avíseme si sigue atascado.",
	},
	keyReconnecting: {
		"en": "Charger %[1]s lost its connection (last contact: %[2]s) and is reconnecting by itself; that usually takes under a minute. It isn't online yet, so I can't send it anything. Write to me when its screen shows it's back and I'll carry on.",
		"fr": "La borne %[1]s a perdu sa connexion (dernier contact : %[2]s) et se reconnecte d'elle-même, habituellement en moins d'une minute. Elle n'est pas encore en ligne, je ne peux donc rien lui envoyer. Écrivez-moi quand l'écran indique qu'elle est revenue et je continue.",
		"es": "El cargador %[1]s perdió la conexión (último contacto: %[2]s) y se está reconectando solo; suele tardar menos de un minuto. Aún no está en línea, así que no puedo enviarle nada. Escríbame cuando la pantalla muestre que volvió y continúo.",
	},
	keyLockBroken: {
		"en": "The connector's lock isn't releasing. I've sent a repair request to the field team (ticket %[1]s); they usually come within 1 business day — sorry, please don't force the cable.",
		"fr": "Le verrou du connecteur ne se libère pas. J'ai envoyé une demande de réparation à l'équipe terrain (billet %[1]s), habituellement en 1 jour ouvrable — désolé, ne forcez pas le câble.",
		"es": "El seguro del conector no se libera. Envié una solicitud de reparación al equipo técnico (ticket %[1]s), normalmente en 1 día hábil; por favor no fuerce el cable.",
	},
	keyReaderTicket: {
		"en": "The card reader on this charger isn't working, so I started the session from your account and reported the reader for repair.",
		"fr": "Le lecteur de cartes de cette borne ne fonctionne pas; j'ai démarré la recharge depuis votre compte et signalé le lecteur pour réparation.",
		"es": "El lector de tarjetas de este cargador no funciona, así que inicié la sesión desde su cuenta y reporté el lector para reparación.",
	},
	keyTokenBlocked: {
		"en": "Your charging card %[1]s is blocked on your account, so I can't start a session with it. I've sent your account to the billing team (ticket %[2]s); meanwhile you can start from the app or pay by link.",
		"fr": "Votre carte de recharge %[1]s est bloquée sur votre compte; je ne peux pas démarrer de recharge avec elle. J'ai transmis votre compte à la facturation (billet %[2]s); en attendant, utilisez l'appli ou le paiement par lien.",
		"es": "Su tarjeta de carga %[1]s está bloqueada en su cuenta, así que no puedo iniciar una sesión con ella. Pasé su cuenta al equipo de facturación (ticket %[2]s); mientras tanto puede usar la app o pagar con enlace.",
	},
	keyTokenExpired: {
		"en": "Your charging card %[1]s has expired, so it can't start a session. You can renew it in the app; I've also asked the account team to follow up (ticket %[2]s). Meanwhile you can start from the app or pay by link.",
		"fr": "Votre carte de recharge %[1]s est expirée et ne peut pas démarrer de recharge. Renouvelez-la dans l'appli; j'ai aussi demandé un suivi à l'équipe des comptes (billet %[2]s). En attendant, utilisez l'appli ou le paiement par lien.",
		"es": "Su tarjeta de carga %[1]s está vencida y no puede iniciar sesiones. Puede renovarla en la app; también pedí seguimiento al equipo de cuentas (ticket %[2]s). Mientras tanto puede usar la app o pagar con enlace.",
	},
	keyTokenUnknown: {
		"en": "That card isn't registered yet: a new card must be activated in the app (Account > Cards) before it works. I've asked the account team to help (ticket %[1]s). Meanwhile you can start from the app or pay by link.",
		"fr": "Cette carte n'est pas encore enregistrée : une nouvelle carte doit être activée dans l'appli (Compte > Cartes). J'ai demandé l'aide de l'équipe des comptes (billet %[1]s). En attendant, utilisez l'appli ou le paiement par lien.",
		"es": "Esa tarjeta todavía no está registrada: una tarjeta nueva se activa en la app (Cuenta > Tarjetas). Pedí ayuda al equipo de cuentas (ticket %[1]s). Mientras tanto puede usar la app o pagar con enlace.",
	},
	keyCardExpired: {
		"en": "Your card ending in %[1]s has expired, so the payment was declined.",
		"fr": "Votre carte se terminant par %[1]s est expirée; le paiement a donc été refusé.",
		"es": "Su tarjeta que termina en %[1]s está vencida, por eso se rechazó el pago.",
	},
	keyHardDecline: {
		"en": "Your bank declined the card ending in %[1]s (%[2]s). I can't retry it or start the session unpaid.",
		"fr": "Votre banque a refusé la carte se terminant par %[1]s (%[2]s). Je ne peux pas réessayer ni démarrer la recharge sans paiement.",
		"es": "Su banco rechazó la tarjeta que termina en %[1]s (%[2]s). No puedo reintentarla ni iniciar la sesión sin pago.",
	},
	keyCardNotUsable: {
		"en": "The card on your account can't be charged right now.",
		"fr": "La carte de votre compte ne peut pas être débitée pour l'instant.",
		"es": "La tarjeta de su cuenta no se puede cobrar en este momento.",
	},
	keyOfferPayLink: {
		"en": "Can I text you a secure payment link? Reply yes or no. You can also update your card in the app and tell me.",
		"fr": "Puis-je vous texter un lien de paiement sécurisé? Répondez oui ou non. Vous pouvez aussi mettre votre carte à jour dans l'appli et me le dire.",
		"es": "¿Le puedo enviar por texto un enlace de pago seguro? Responda sí o no. También puede actualizar su tarjeta en la app y avisarme.",
	},
	keyPayLinkSent: {
		"en": "Here is your payment link: %[1]s (valid 1 hour). Reply once you've paid and I'll start the session.",
		"fr": "Voici votre lien de paiement : %[1]s (valide 1 heure). Répondez-moi une fois payé et je démarre la recharge.",
		"es": "Aquí está su enlace de pago: %[1]s (válido 1 hora). Respóndame cuando haya pagado e inicio la sesión.",
	},
	keyNotPaidYet: {
		"en": "I don't see the payment yet. Once the link shows paid, reply and I'll start the session.",
		"fr": "Je ne vois pas encore le paiement. Quand le lien indique payé, répondez-moi et je démarre la recharge.",
		"es": "Todavía no veo el pago. Cuando el enlace aparezca pagado, respóndame e inicio la sesión.",
	},
	keyPayLinkPaid: {
		"en": "Payment received.",
		"fr": "Paiement reçu.",
		"es": "Pago recibido.",
	},
	keyPayAlternatives: {
		"en": "No problem. You can add or update a card in the app, or use your charging card if your account has one; tell me when you're ready.",
		"fr": "Pas de problème. Vous pouvez ajouter ou mettre à jour une carte dans l'appli, ou utiliser votre carte de recharge si votre compte en a une; dites-moi quand vous êtes prêt.",
		"es": "No hay problema. Puede agregar o actualizar una tarjeta en la app, o usar su tarjeta de carga si su cuenta tiene una; avíseme cuando esté listo.",
	},
	keyPaymentOK: {
		"en": "The payment on your card ending in %[1]s is authorized.",
		"fr": "Le paiement sur votre carte se terminant par %[1]s est autorisé.",
		"es": "El pago con su tarjeta que termina en %[1]s está autorizado.",
	},
	keyWaitCardFreed: {
		"en": "All right. Once the other session has stopped, tell me and I'll start this one.",
		"fr": "D'accord. Quand l'autre recharge sera arrêtée, dites-le-moi et je lance celle-ci.",
		"es": "De acuerdo. Cuando la otra sesión se haya detenido, avíseme e inicio esta.",
	},
	keyWaitCardFreedAgain: {
		"en": "I'm here when you're ready: as soon as your other session is stopped, say so and I'll start this one.",
		"fr": "Je reste là : dès que votre autre recharge est arrêtée, dites-le et je lance celle-ci.",
		"es": "Aquí estoy: en cuanto su otra sesión esté detenida, dígamelo e inicio esta.",
	},
	keyStillWorking: {
		"en": "I'm still waiting for the charger to confirm my last step. Give it a minute, then write to me again.",
		"fr": "J'attends encore que la borne confirme ma dernière étape. Donnez-lui une minute, puis réécrivez-moi.",
		"es": "Todavía estoy esperando que el cargador confirme mi último paso. Dele un minuto y vuelva a escribirme.",
	},
	keyInterrupted: {
		"en": "My last step with the charger was interrupted before I could confirm it, so I'm checking the charger again.",
		"fr": "Ma dernière étape avec la borne a été interrompue avant que je puisse la confirmer; je vérifie donc la borne de nouveau.",
		"es": "Mi último paso con el cargador se interrumpió antes de que pudiera confirmarlo, así que estoy revisando el cargador otra vez.",
	},
	keyHoldsReleased: {
		"en": "I released %[1]d pending holds (%[2]s) that weren't tied to any session. Your bank may show them for a few more days before they disappear; you weren't charged for them.",
		"fr": "J'ai libéré %[1]d préautorisations en attente (%[2]s) liées à aucune recharge. Votre banque peut encore les afficher quelques jours avant qu'elles disparaissent; elles ne vous sont pas facturées.",
		"es": "Liberé %[1]d retenciones pendientes (%[2]s) que no correspondían a ninguna sesión. Su banco puede mostrarlas unos días más antes de que desaparezcan; no se le cobraron.",
	},
	keyBillingTicket: {
		"en": "I've sent this to the billing team with your sessions and amounts (ticket %[1]s). They reply within 2 business days; I can't promise the outcome.",
		"fr": "J'ai transmis votre demande à la facturation avec vos recharges et montants (billet %[1]s). Elle répond en 2 jours ouvrables; je ne peux pas promettre le résultat.",
		"es": "Envié esto al equipo de facturación con sus sesiones y montos (ticket %[1]s). Responden en 2 días hábiles; no puedo prometer el resultado.",
	},
	keySlowNoSession: {
		"en": "I don't see an active session on connector %[1]d right now.",
		"fr": "Je ne vois pas de recharge active sur le connecteur %[1]d en ce moment.",
		"es": "No veo una sesión activa en el conector %[1]d en este momento.",
	},
	keySlowTaper: {
		"en": "You're getting %.1[1]f kW with the battery at %.0[2]f%%: cars slow down on purpose above about 80%% to protect the battery.",
		"fr": "Vous recevez %.1[1]f kW avec la batterie à %.0[2]f %% : les véhicules ralentissent volontairement au-delà d'environ 80 %% pour protéger la batterie.",
		"es": "Está recibiendo %.1[1]f kW con la batería al %.0[2]f%%: los autos bajan la potencia a propósito por encima de 80%% para proteger la batería.",
	},
	keySlowLow: {
		"en": "The charger is delivering only %.1[1]f kW of its %.0[2]f kW rating, which is too low. I've reported it to the field team (ticket %[3]s).",
		"fr": "La borne ne fournit que %.1[1]f kW sur %.0[2]f kW nominaux, ce qui est trop bas. Je l'ai signalé à l'équipe terrain (billet %[3]s).",
		"es": "El cargador entrega solo %.1[1]f kW de sus %.0[2]f kW nominales, demasiado bajo. Lo reporté al equipo técnico (ticket %[3]s).",
	},
	keySlowNormal: {
		"en": "You're getting %.1[1]f kW on a %.0[2]f kW connector. Power also depends on your car's battery level and temperature, and on how the site shares power.",
		"fr": "Vous recevez %.1[1]f kW sur un connecteur de %.0[2]f kW. La puissance dépend aussi de la charge et de la température de la batterie, et du partage de puissance du site.",
		"es": "Está recibiendo %.1[1]f kW en un conector de %.0[2]f kW. La potencia también depende del nivel y la temperatura de la batería y de cómo el sitio reparte la energía.",
	},
	keySlowNormalUnrated: {
		"en": "You're getting %.1[1]f kW. Power also depends on your car's battery level and temperature, and on how the site shares power.",
		"fr": "Vous recevez %.1[1]f kW. La puissance dépend aussi de la charge et de la température de la batterie, et du partage de puissance du site.",
		"es": "Está recibiendo %.1[1]f kW. La potencia también depende del nivel y la temperatura de la batería y de cómo el sitio reparte la energía.",
	},
	keySlowTicket: {
		"en": "I can't read this charger's power right now, so I've asked the field team to check it (ticket %[1]s).",
		"fr": "Je ne peux pas lire la puissance de cette borne pour l'instant; j'ai demandé à l'équipe terrain de la vérifier (billet %[1]s).",
		"es": "No puedo leer la potencia de este cargador ahora, así que pedí al equipo técnico que lo revise (ticket %[1]s).",
	},
	keyDamageUnsafe: {
		"en": "Thank you — please don't use it. I've taken connector %[1]d out of service and sent a repair request (ticket %[2]s).",
		"fr": "Merci — ne l'utilisez pas. J'ai mis le connecteur %[1]d hors service et envoyé une demande de réparation (billet %[2]s).",
		"es": "Gracias; por favor no lo use. Puse el conector %[1]d fuera de servicio y envié una solicitud de reparación (ticket %[2]s).",
	},
	keyTicketOpen: {
		"en": "Your case is with our team (ticket %[1]s); they'll follow up. Anything else I can help with?",
		"fr": "Votre dossier est entre les mains de notre équipe (billet %[1]s), qui fera le suivi. Puis-je vous aider avec autre chose?",
		"es": "Su caso está con nuestro equipo (ticket %[1]s) y le darán seguimiento. ¿Le ayudo con algo más?",
	},
	keyAskStartTime: {
		"en": "To make sure this is your cable, about what time did you start charging (for example 2:30 pm)?",
		"fr": "Pour m'assurer que c'est votre câble, vers quelle heure avez-vous commencé la recharge (par exemple 14 h 30)?",
		"es": "Para asegurarme de que es su cable, ¿a qué hora aproximada empezó a cargar (por ejemplo 2:30 pm)?",
	},
	keyStartTimeLater: {
		"en": "All right. I can release the cable once I know about what time you started charging; write to me with it whenever you're ready.",
		"fr": "D'accord. Je pourrai libérer le câble quand je saurai vers quelle heure vous avez commencé la recharge; écrivez-moi l'heure dès que vous voulez.",
		"es": "De acuerdo. Podré liberar el cable cuando sepa a qué hora aproximada empezó a cargar; escríbame la hora cuando quiera.",
	},
	keyNewCardNotSeen: {
		"en": "I don't see a new or changed card on your account yet, so I won't try the declined card again.",
		"fr": "Je ne vois pas encore de carte nouvelle ou modifiée sur votre compte, je ne réessaierai donc pas la carte refusée.",
		"es": "Todavía no veo una tarjeta nueva o modificada en su cuenta, así que no volveré a intentar con la tarjeta rechazada.",
	},
	keyAgentPaused: {
		"en": "I can't make payment changes right now, so I've passed this to our team (ticket %[1]s).",
		"fr": "Je ne peux pas effectuer d'opération de paiement pour le moment; j'ai transmis votre dossier à notre équipe (billet %[1]s).",
		"es": "No puedo hacer operaciones de pago en este momento, así que pasé su caso a nuestro equipo (ticket %[1]s).",
	},
	keyDamageTicket: {
		"en": "Thanks for reporting it. I've sent a repair request to the field team (ticket %[1]s).",
		"fr": "Merci du signalement. J'ai envoyé une demande de réparation à l'équipe terrain (billet %[1]s).",
		"es": "Gracias por avisar. Envié una solicitud de reparación al equipo técnico (ticket %[1]s).",
	},
}

// say returns the text of key in lang (English when the language is not
// spoken), formatted with args.
func say(lang, key string, args ...any) string {
	texts, ok := replies[key]
	if !ok {
		return key
	}
	t, ok := texts[lang]
	if !ok {
		t = texts["en"]
	}
	return fmt.Sprintf(t, args...)
}
