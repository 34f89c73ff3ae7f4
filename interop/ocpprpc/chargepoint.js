#!/usr/bin/env node
// An OCPP charge point built on ocpp-rpc in strict mode, for chargedesk's
// interop tests. It connects to a CSMS, runs a fixed charging scenario, then
// stays connected and answers every command the CSMS sends. Every event is
// one JSON line on stdout; diagnostics go to stderr.
//
// Usage:
//   node chargepoint.js --url ws://127.0.0.1:9000/ocpp --identity CP1 \
//       --password secret --protocol ocpp1.6 --id-tag TAG1
// Each flag may instead come from the environment: OCPP_URL, OCPP_IDENTITY,
// OCPP_PASSWORD, OCPP_PROTOCOL, OCPP_ID_TAG. The identity is appended to the
// URL as its last path segment. Set OCPP_NO_SCENARIO=1 to skip the scenario
// and only answer commands. OCPP_CALL_TIMEOUT_MS bounds the wait for each
// answer (default 30000).
//
// The process exits with status 0 on SIGTERM, SIGINT, when its stdin closes,
// or when the CSMS closes the connection; with status 1 when it cannot
// connect or its arguments are wrong.
'use strict';

const { RPCClient, createRPCError } = require('ocpp-rpc');
const { randomUUID } = require('node:crypto');

function emit(obj) {
    process.stdout.write(JSON.stringify(obj) + '\n');
}

function parseArgs(argv, env) {
    const opts = {
        url: env.OCPP_URL,
        identity: env.OCPP_IDENTITY,
        password: env.OCPP_PASSWORD,
        protocol: env.OCPP_PROTOCOL || 'ocpp1.6',
        idTag: env.OCPP_ID_TAG || 'INTEROP-TAG',
        scenario: env.OCPP_NO_SCENARIO !== '1',
        callTimeoutMs: Number(env.OCPP_CALL_TIMEOUT_MS) > 0 ? Number(env.OCPP_CALL_TIMEOUT_MS) : 30000,
    };
    const names = { '--url': 'url', '--identity': 'identity', '--password': 'password', '--protocol': 'protocol', '--id-tag': 'idTag' };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === '--no-scenario') {
            opts.scenario = false;
            continue;
        }
        const eq = a.indexOf('=');
        const flag = eq >= 0 ? a.slice(0, eq) : a;
        const key = names[flag];
        if (!key) throw new Error(`unknown argument ${a}`);
        let value;
        if (eq >= 0) {
            value = a.slice(eq + 1);
        } else {
            if (i + 1 >= argv.length) throw new Error(`${flag} needs a value`);
            value = argv[++i];
        }
        opts[key] = value;
    }
    if (!opts.url) throw new Error('url is required (--url or OCPP_URL)');
    if (!opts.identity) throw new Error('identity is required (--identity or OCPP_IDENTITY)');
    if (opts.protocol !== 'ocpp1.6' && opts.protocol !== 'ocpp2.0.1') {
        throw new Error(`protocol must be ocpp1.6 or ocpp2.0.1, not ${opts.protocol}`);
    }
    return opts;
}

const now = () => new Date().toISOString();

// ChargePoint holds the little state a plausible charger keeps and talks
// through one RPCClient. Subclasses supply the version-specific messages.
class ChargePoint {
    constructor(client, opts) {
        this.client = client;
        this.opts = opts;
        this.meterWh = 0;
        this.tx = null; // the active transaction: {id, idTag, seqNo}
        this.localListVersion = 0;
        this.heartbeatTimer = null;
        this.closed = false;
        this.config = new Map();
    }

    // call sends one CALL and reports its CALLRESULT or error; it resolves
    // to the result, or to null when the call failed.
    async call(action, payload) {
        try {
            const result = await this.client.call(action, payload);
            emit({ event: 'result', action, payload: result });
            return result;
        } catch (err) {
            if (!this.closed) {
                emit({ event: 'error', action, code: err.rpcErrorCode || 'ClientError', message: err.message, details: err.details });
            }
            return null;
        }
    }

    // handle registers a handler for a CSMS command that logs the call and
    // its answer. The handler may return {response, after}; after runs once
    // the response has been sent.
    handle(action, fn) {
        this.client.handle(action, async ({ params }) => {
            let out;
            try {
                out = await fn(params);
            } catch (err) {
                emit({ event: 'error', action, code: err.rpcErrorCode || 'InternalError', message: err.message, direction: 'answer' });
                throw err;
            }
            const response = out && out.response !== undefined ? out.response : out;
            emit({ event: 'call', action, payload: params, response });
            if (out && typeof out.after === 'function') {
                // The response is written when this handler's promise
                // settles; the follow-up goes after it.
                setImmediate(() => out.after().catch(err => emit({ event: 'error', action, message: err.message })));
            }
            return response;
        });
    }

    startHeartbeat(intervalSeconds) {
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
        if (!(intervalSeconds > 0)) return;
        this.heartbeatTimer = setInterval(() => { this.call('Heartbeat', {}); }, intervalSeconds * 1000);
        this.heartbeatTimer.unref();
    }

    async boot(reasonTriggered) {
        const res = await this.call('BootNotification', this.bootPayload(reasonTriggered));
        if (res && res.status === 'Accepted') this.startHeartbeat(res.interval);
        return res;
    }

    close() {
        this.closed = true;
        if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    }
}

class ChargePoint16 extends ChargePoint {
    constructor(client, opts) {
        super(client, opts);
        // key -> {value, readonly}
        for (const [k, v, ro] of [
            ['HeartbeatInterval', '300', false],
            ['MeterValueSampleInterval', '60', false],
            ['ConnectionTimeOut', '60', false],
            ['AuthorizeRemoteTxRequests', 'true', false],
            ['LocalAuthListEnabled', 'true', false],
            ['LocalAuthListMaxLength', '100', true],
            ['NumberOfConnectors', '1', true],
            ['SupportedFeatureProfiles', 'Core,LocalAuthListManagement,RemoteTrigger', true],
        ]) this.config.set(k, { value: v, readonly: ro });
        this.status = 'Available';
    }

    bootPayload() {
        return { chargePointVendor: 'chargedesk-interop', chargePointModel: 'ocpp-rpc', firmwareVersion: '2.2.1' };
    }

    statusNotification(status, connectorId = 1) {
        if (connectorId === 1) this.status = status;
        return this.call('StatusNotification', { connectorId, errorCode: 'NoError', status, timestamp: now() });
    }

    meterValue() {
        return [{
            timestamp: now(),
            sampledValue: [{ value: String(this.meterWh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' }],
        }];
    }

    async startTransaction(idTag) {
        const res = await this.call('StartTransaction', { connectorId: 1, idTag, meterStart: this.meterWh, timestamp: now() });
        if (!res) return null;
        this.tx = { id: res.transactionId, idTag };
        await this.statusNotification('Charging');
        return this.tx;
    }

    async stopTransaction(reason) {
        const tx = this.tx;
        if (!tx) return;
        this.tx = null;
        await this.call('StopTransaction', { transactionId: tx.id, idTag: tx.idTag, meterStop: this.meterWh, timestamp: now(), reason });
        await this.statusNotification('Available');
    }

    async scenario() {
        const boot = await this.boot();
        if (!boot || boot.status !== 'Accepted') {
            emit({ event: 'error', action: 'BootNotification', message: `boot not accepted: ${boot ? boot.status : 'no answer'}` });
            return;
        }
        await this.statusNotification('Available');
        await this.call('Authorize', { idTag: this.opts.idTag });
        const tx = await this.startTransaction(this.opts.idTag);
        if (!tx) return;
        this.meterWh += 1500;
        await this.call('MeterValues', { connectorId: 1, transactionId: tx.id, meterValue: this.meterValue() });
        this.meterWh += 500;
        await this.stopTransaction('Local');
        emit({ event: 'scenario_done', transactionId: String(tx.id) });
    }

    registerHandlers() {
        this.handle('RemoteStartTransaction', (p) => {
            if (this.tx || this.status === 'Unavailable') return { status: 'Rejected' };
            return { response: { status: 'Accepted' }, after: () => this.startTransaction(p.idTag) };
        });
        this.handle('RemoteStopTransaction', (p) => {
            if (!this.tx || this.tx.id !== p.transactionId) return { status: 'Rejected' };
            return { response: { status: 'Accepted' }, after: () => this.stopTransaction('Remote') };
        });
        this.handle('Reset', () => ({ status: 'Accepted' }));
        this.handle('UnlockConnector', (p) => (p.connectorId === 1 ? { status: 'Unlocked' } : { status: 'NotSupported' }));
        this.handle('ChangeAvailability', (p) => {
            const next = p.type === 'Operative' ? 'Available' : 'Unavailable';
            if (this.tx && next === 'Unavailable') return { status: 'Scheduled' };
            return { response: { status: 'Accepted' }, after: () => this.statusNotification(next, p.connectorId === 0 ? 0 : 1) };
        });
        this.handle('ClearCache', () => ({ status: 'Accepted' }));
        this.handle('SendLocalList', (p) => {
            if (p.updateType === 'Differential' && p.listVersion <= this.localListVersion) return { status: 'VersionMismatch' };
            this.localListVersion = p.listVersion;
            return { status: 'Accepted' };
        });
        this.handle('GetLocalListVersion', () => ({ listVersion: this.localListVersion }));
        this.handle('GetConfiguration', (p) => {
            const keys = p.key && p.key.length ? p.key : [...this.config.keys()];
            const configurationKey = [];
            const unknownKey = [];
            for (const key of keys) {
                const c = this.config.get(key);
                if (c) configurationKey.push({ key, readonly: c.readonly, value: c.value });
                else unknownKey.push(key);
            }
            const res = { configurationKey };
            if (unknownKey.length) res.unknownKey = unknownKey;
            return res;
        });
        this.handle('ChangeConfiguration', (p) => {
            const c = this.config.get(p.key);
            if (!c) return { status: 'NotSupported' };
            if (c.readonly) return { status: 'Rejected' };
            c.value = p.value;
            if (p.key === 'HeartbeatInterval') this.startHeartbeat(Number(p.value));
            return { status: 'Accepted' };
        });
        this.handle('DataTransfer', (p) => {
            if (p.vendorId !== 'chargedesk') return { status: 'UnknownVendorId' };
            const res = { status: 'Accepted' };
            if (p.data !== undefined) res.data = p.data;
            return res;
        });
        this.handle('TriggerMessage', (p) => {
            const connectorId = p.connectorId === undefined ? 1 : p.connectorId;
            const follow = {
                BootNotification: () => this.boot(),
                Heartbeat: () => this.call('Heartbeat', {}),
                StatusNotification: () => this.statusNotification(connectorId === 0 ? 'Available' : this.status, connectorId),
                MeterValues: () => {
                    const req = { connectorId: connectorId === 0 ? 1 : connectorId, meterValue: this.meterValue() };
                    if (this.tx) req.transactionId = this.tx.id;
                    return this.call('MeterValues', req);
                },
                DiagnosticsStatusNotification: () => this.call('DiagnosticsStatusNotification', { status: 'Idle' }),
                FirmwareStatusNotification: () => this.call('FirmwareStatusNotification', { status: 'Idle' }),
            }[p.requestedMessage];
            if (!follow) return { status: 'NotImplemented' };
            return { response: { status: 'Accepted' }, after: follow };
        });
    }
}

class ChargePoint201 extends ChargePoint {
    constructor(client, opts) {
        super(client, opts);
        // "Component/Variable" -> {value, readonly}
        for (const [k, v, ro] of [
            ['OCPPCommCtrlr/HeartbeatInterval', '300', false],
            ['SampledDataCtrlr/TxUpdatedInterval', '60', false],
            ['TxCtrlr/EVConnectionTimeOut', '60', false],
            ['AuthCtrlr/AuthorizeRemoteStart', 'true', false],
            ['LocalAuthListCtrlr/Enabled', 'true', false],
            ['LocalAuthListCtrlr/Entries', '0', true],
            ['DeviceDataCtrlr/ItemsPerMessage', '10', true],
        ]) this.config.set(k, { value: v, readonly: ro });
        this.status = 'Available';
        this.nextRequestId = 1;
    }

    bootPayload(triggered) {
        return {
            reason: triggered ? 'Triggered' : 'PowerUp',
            chargingStation: { vendorName: 'chargedesk-interop', model: 'ocpp-rpc', firmwareVersion: '2.2.1' },
        };
    }

    statusNotification(status, evseId = 1, connectorId = 1) {
        if (evseId === 1) this.status = status;
        return this.call('StatusNotification', { timestamp: now(), connectorStatus: status, evseId, connectorId });
    }

    meterValue(context = 'Sample.Periodic') {
        return [{
            timestamp: now(),
            sampledValue: [{ value: this.meterWh, context, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }],
        }];
    }

    idToken(tag) {
        return { idToken: tag, type: 'ISO14443' };
    }

    transactionEvent(eventType, triggerReason, extra = {}, info = {}) {
        const tx = this.tx;
        const req = {
            eventType,
            timestamp: now(),
            triggerReason,
            seqNo: tx.seqNo++,
            transactionInfo: { transactionId: tx.id, ...info },
            ...extra,
        };
        return this.call('TransactionEvent', req);
    }

    async startTransaction(tag, remoteStartId) {
        this.tx = { id: randomUUID(), idTag: tag, seqNo: 0 };
        const info = { chargingState: 'EVConnected' };
        if (remoteStartId !== undefined) info.remoteStartId = remoteStartId;
        const res = await this.transactionEvent('Started', remoteStartId !== undefined ? 'RemoteStart' : 'Authorized', {
            idToken: this.idToken(tag),
            evse: { id: 1, connectorId: 1 },
            meterValue: this.meterValue('Transaction.Begin'),
        }, info);
        if (!res) return null;
        await this.statusNotification('Occupied');
        await this.transactionEvent('Updated', 'ChargingStateChanged', {}, { chargingState: 'Charging' });
        return this.tx;
    }

    async stopTransaction(triggerReason, stoppedReason) {
        if (!this.tx) return;
        await this.transactionEvent('Ended', triggerReason, { meterValue: this.meterValue('Transaction.End') },
            { chargingState: 'Idle', stoppedReason });
        this.tx = null;
        await this.statusNotification('Available');
    }

    async scenario() {
        const boot = await this.boot();
        if (!boot || boot.status !== 'Accepted') {
            emit({ event: 'error', action: 'BootNotification', message: `boot not accepted: ${boot ? boot.status : 'no answer'}` });
            return;
        }
        await this.statusNotification('Available');
        await this.call('Authorize', { idToken: this.idToken(this.opts.idTag) });
        const tx = await this.startTransaction(this.opts.idTag);
        if (!tx) return;
        this.meterWh += 1500;
        await this.transactionEvent('Updated', 'MeterValuePeriodic', { meterValue: this.meterValue() });
        this.meterWh += 500;
        await this.stopTransaction('StopAuthorized', 'Local');
        emit({ event: 'scenario_done', transactionId: tx.id });
    }

    variableKey(v) {
        return `${v.component.name}/${v.variable.name}`;
    }

    registerHandlers() {
        this.handle('RequestStartTransaction', (p) => {
            if (this.tx || this.status === 'Unavailable') return { status: 'Rejected' };
            return { response: { status: 'Accepted' }, after: () => this.startTransaction(p.idToken.idToken, p.remoteStartId) };
        });
        this.handle('RequestStopTransaction', (p) => {
            if (!this.tx || this.tx.id !== p.transactionId) return { status: 'Rejected' };
            return { response: { status: 'Accepted' }, after: () => this.stopTransaction('RemoteStop', 'Remote') };
        });
        this.handle('Reset', () => ({ status: 'Accepted' }));
        this.handle('UnlockConnector', (p) => (p.evseId === 1 && p.connectorId === 1 ? { status: 'Unlocked' } : { status: 'UnknownConnector' }));
        this.handle('ChangeAvailability', (p) => {
            const next = p.operationalStatus === 'Operative' ? 'Available' : 'Unavailable';
            if (this.tx && next === 'Unavailable') return { status: 'Scheduled' };
            return { response: { status: 'Accepted' }, after: () => this.statusNotification(next) };
        });
        this.handle('ClearCache', () => ({ status: 'Accepted' }));
        this.handle('SendLocalList', (p) => {
            if (p.updateType === 'Differential' && p.versionNumber <= this.localListVersion) return { status: 'VersionMismatch' };
            this.localListVersion = p.versionNumber;
            return { status: 'Accepted' };
        });
        this.handle('GetLocalListVersion', () => ({ versionNumber: this.localListVersion }));
        this.handle('GetVariables', (p) => ({
            getVariableResult: p.getVariableData.map((d) => {
                const c = this.config.get(this.variableKey(d));
                const r = { component: d.component, variable: d.variable };
                if (!c) {
                    const known = [...this.config.keys()].some((k) => k.startsWith(d.component.name + '/'));
                    r.attributeStatus = known ? 'UnknownVariable' : 'UnknownComponent';
                } else if (d.attributeType && d.attributeType !== 'Actual') {
                    r.attributeStatus = 'NotSupportedAttributeType';
                } else {
                    r.attributeStatus = 'Accepted';
                    r.attributeValue = c.value;
                }
                if (d.attributeType) r.attributeType = d.attributeType;
                return r;
            }),
        }));
        this.handle('SetVariables', (p) => ({
            setVariableResult: p.setVariableData.map((d) => {
                const c = this.config.get(this.variableKey(d));
                const r = { component: d.component, variable: d.variable };
                if (!c) {
                    const known = [...this.config.keys()].some((k) => k.startsWith(d.component.name + '/'));
                    r.attributeStatus = known ? 'UnknownVariable' : 'UnknownComponent';
                } else if (c.readonly) {
                    r.attributeStatus = 'Rejected';
                } else {
                    c.value = d.attributeValue;
                    r.attributeStatus = 'Accepted';
                    if (this.variableKey(d) === 'OCPPCommCtrlr/HeartbeatInterval') this.startHeartbeat(Number(d.attributeValue));
                }
                if (d.attributeType) r.attributeType = d.attributeType;
                return r;
            }),
        }));
        this.handle('DataTransfer', (p) => {
            if (p.vendorId !== 'chargedesk') return { status: 'UnknownVendorId' };
            const res = { status: 'Accepted' };
            if (p.data !== undefined) res.data = p.data;
            return res;
        });
        this.handle('TriggerMessage', (p) => {
            const evseId = p.evse ? p.evse.id : 1;
            const connectorId = p.evse && p.evse.connectorId !== undefined ? p.evse.connectorId : 1;
            const follow = {
                BootNotification: () => this.boot(true),
                Heartbeat: () => this.call('Heartbeat', {}),
                StatusNotification: () => this.statusNotification(this.status, evseId, connectorId),
                MeterValues: () => this.call('MeterValues', { evseId, meterValue: this.meterValue('Trigger') }),
                TransactionEvent: this.tx ? () => this.transactionEvent('Updated', 'Trigger', { meterValue: this.meterValue('Trigger') }) : null,
                LogStatusNotification: () => this.call('LogStatusNotification', { status: 'Idle' }),
                FirmwareStatusNotification: () => this.call('FirmwareStatusNotification', { status: 'Idle' }),
            }[p.requestedMessage];
            if (p.requestedMessage === 'TransactionEvent' && !follow) return { status: 'Rejected' };
            if (!follow) return { status: 'NotImplemented' };
            return { response: { status: 'Accepted' }, after: follow };
        });
    }
}

async function main() {
    let opts;
    try {
        opts = parseArgs(process.argv.slice(2), process.env);
    } catch (err) {
        emit({ event: 'error', code: 'Usage', message: err.message });
        process.exit(1);
    }

    const client = new RPCClient({
        endpoint: opts.url,
        identity: opts.identity,
        password: opts.password || undefined,
        protocols: [opts.protocol],
        strictMode: true,
        reconnect: false,
        callTimeoutMs: opts.callTimeoutMs,
    });
    const cp = opts.protocol === 'ocpp1.6' ? new ChargePoint16(client, opts) : new ChargePoint201(client, opts);
    cp.registerHandlers();

    client.on('strictValidationFailure', (e) => {
        emit({
            event: 'error',
            code: 'StrictValidation',
            action: e.method,
            outbound: e.outbound,
            isCall: e.isCall,
            message: e.error && e.error.message,
            payload: e.isCall ? e.params : e.result,
        });
    });
    // Report every CALLERROR this charger sends, with the code as written
    // on the wire (ocpp-rpc respells some codes for ocpp1.6).
    const inbound = new Map();
    client.on('call', ({ outbound, payload }) => {
        if (!outbound) inbound.set(payload[1], { method: payload[2], params: payload[3] });
    });
    client.on('response', ({ outbound, payload }) => {
        if (!outbound) return;
        const call = inbound.get(payload[1]) || {};
        inbound.delete(payload[1]);
        if (payload[0] === 4) {
            emit({ event: 'error', action: call.method, code: payload[2], message: payload[3], payload: call.params, sent: true });
        }
    });
    client.on('badMessage', (e) => {
        emit({ event: 'error', code: 'BadMessage', message: e.error && e.error.message, frame: e.buffer && e.buffer.toString() });
    });

    let exiting = false;
    const shutdown = async (why) => {
        if (exiting) return;
        exiting = true;
        cp.close();
        try {
            await client.close({ code: 1000, reason: why, awaitPending: false });
        } catch (err) {
            process.stderr.write(`close: ${err.message}\n`);
        }
        emit({ event: 'closed', message: why });
        process.exit(0);
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin closed'));
    process.stdin.resume();

    let connected = false;
    client.on('close', ({ code, reason }) => {
        // Before the handshake succeeded, connect() reports the failure.
        if (exiting || !connected) return;
        emit({ event: 'disconnected', code: String(code), message: String(reason || '') });
        shutdown('connection closed');
    });

    try {
        await client.connect();
    } catch (err) {
        emit({ event: 'error', code: 'ConnectFailed', message: err.message });
        process.exit(1);
    }
    connected = true;
    emit({ event: 'connected', protocol: client.protocol });
    if (opts.scenario) await cp.scenario();
}

main().catch((err) => {
    emit({ event: 'error', code: 'Fatal', message: err.stack || String(err) });
    process.exit(1);
});
