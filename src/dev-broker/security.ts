/**
 * A development broker's secured listeners, next to its PLAINTEXT one: a
 * TLS listener (security protocol SSL, the server's certificate and key as
 * PEM files) and a SASL listener (SASL_PLAINTEXT, or SASL_SSL on the TLS
 * certificate) with SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN. The PLAINTEXT
 * listener stays as it is: the broker's own traffic and the readiness probe
 * use it. SCRAM users are written into the metadata when the storage is
 * formatted (Kafka's `StorageTool format --add-scram`); PLAIN users are in
 * the listener's JAAS config, so they follow the options on every start.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HOST, type BrokerProperties, type KraftNode } from './config.ts';

/** The secured listeners to open, for the `listeners` option of startKafkaBroker. */
export interface DevBrokerListeners {
  /** A TLS listener (SSL) named `TLS`. */
  readonly tls?: DevBrokerTlsListener;
  /** A SASL listener named `SASL`: SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN for `users`. */
  readonly sasl?: DevBrokerSaslListener;
}

/** The TLS listener: its port and the server's certificate and key. */
export interface DevBrokerTlsListener {
  /** Its port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** The server's certificate (chain), PEM: it must name 127.0.0.1 (an IP subject alternative name) for clients that check the host. */
  readonly certificateFile: string;
  /** The certificate's private key, PEM, unencrypted PKCS#8 (`BEGIN PRIVATE KEY`). */
  readonly keyFile: string;
  /** CA certificate(s), PEM, to check client certificates with; with it, clients must present one (`ssl.client.auth=required`). */
  readonly clientCaFile?: string;
}

/** The SASL listener: its port, whether it runs over TLS, and its users. */
export interface DevBrokerSaslListener {
  /** Its port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** SASL_SSL on the TLS listener's certificate instead of SASL_PLAINTEXT (needs `tls`). */
  readonly overTls?: boolean;
  /** The users (letters, digits and . _ @ + - only). SCRAM users are added when the storage is first formatted; a data dir formatted before keeps its own. */
  readonly users: readonly { readonly username: string; readonly password: string }[];
}

/** Where the secured listeners ended up: `127.0.0.1:<port>` of each opened. */
export interface DevBrokerListenerAddresses {
  /** The TLS listener's address. */
  readonly tls?: string;
  /** The SASL listener's address. */
  readonly sasl?: string;
}

/** The listeners with their ports chosen. */
export interface ChosenListeners {
  readonly tls?: DevBrokerTlsListener & { readonly port: number };
  readonly sasl?: DevBrokerSaslListener & { readonly port: number };
}

/** The keystore file the TLS listener reads: the key and the certificate chain in one PEM file, as Kafka's PEM keystore wants. */
const KEYSTORE_FILE = 'tls-keystore.pem';
const SCRAM_MECHANISMS = ['SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;

/** Checks the options and picks free ports for the listeners that have none, never the node's own two. */
export async function chooseListenerPorts(listeners: DevBrokerListeners, node: Pick<KraftNode, 'port' | 'controllerPort'>): Promise<ChosenListeners> {
  const { tls, sasl } = listeners;
  if (sasl?.overTls === true && tls === undefined) throw new Error('the SASL listener over TLS (sasl.overTls) needs listeners.tls for its certificate');
  for (const u of sasl?.users ?? []) checkUser(u.username, u.password);
  const taken = new Set([node.port, node.controllerPort]);
  const pick = async (given: number | undefined): Promise<number> => {
    const port = given ?? (await freePort(taken));
    if (taken.has(port)) throw new Error(`listener port ${port} on ${HOST} is taken by another listener of the broker`);
    taken.add(port);
    return port;
  };
  return {
    ...(tls === undefined ? {} : { tls: { ...tls, port: await pick(tls.port) } }),
    ...(sasl === undefined ? {} : { sasl: { ...sasl, port: await pick(sasl.port) } }),
  };
}

/** The `127.0.0.1:<port>` of each secured listener. */
export function listenerAddresses(chosen: ChosenListeners): DevBrokerListenerAddresses {
  return {
    ...(chosen.tls === undefined ? {} : { tls: `${HOST}:${chosen.tls.port}` }),
    ...(chosen.sasl === undefined ? {} : { sasl: `${HOST}:${chosen.sasl.port}` }),
  };
}

/**
 * The broker settings for the listeners, which replace the generated
 * listener lists (PLAINTEXT and CONTROLLER kept as they are) and add each
 * listener's own TLS and SASL settings; writes the TLS keystore into the
 * node's directory.
 */
export function listenerProperties(chosen: ChosenListeners, node: KraftNode): BrokerProperties {
  const names: [string, string, number][] = [];
  if (chosen.tls !== undefined) names.push(['TLS', 'SSL', chosen.tls.port]);
  if (chosen.sasl !== undefined) names.push(['SASL', chosen.sasl.overTls === true ? 'SASL_SSL' : 'SASL_PLAINTEXT', chosen.sasl.port]);
  if (names.length === 0) return {};
  const secured = names.map(([name, , port]) => `${name}://${HOST}:${port}`);
  const props: Record<string, string> = {
    listeners: [`PLAINTEXT://${HOST}:${node.port}`, `CONTROLLER://${HOST}:${node.controllerPort}`, ...secured].join(','),
    'advertised.listeners': [`PLAINTEXT://${HOST}:${node.port}`, ...secured].join(','),
    'listener.security.protocol.map': ['PLAINTEXT:PLAINTEXT', 'CONTROLLER:PLAINTEXT', ...names.map(([name, protocol]) => `${name}:${protocol}`)].join(','),
  };
  if (chosen.tls !== undefined) {
    const keystore = join(node.dataDir, KEYSTORE_FILE);
    writeFileSync(keystore, `${readPem(chosen.tls.keyFile, 'key')}\n${readPem(chosen.tls.certificateFile, 'certificate')}\n`, { mode: 0o600 });
    Object.assign(props, tlsSettings('tls', keystore, chosen.tls));
    if (chosen.sasl?.overTls === true) Object.assign(props, tlsSettings('sasl', keystore, chosen.tls));
  }
  if (chosen.sasl !== undefined) Object.assign(props, saslSettings(chosen.sasl));
  return props;
}

/** One listener's TLS settings: the PEM keystore, and the client CA when clients must present a certificate. */
function tlsSettings(listener: string, keystore: string, tls: DevBrokerTlsListener): Record<string, string> {
  const prefix = `listener.name.${listener}.`;
  const props: Record<string, string> = { [`${prefix}ssl.keystore.type`]: 'PEM', [`${prefix}ssl.keystore.location`]: keystore };
  if (tls.clientCaFile !== undefined) {
    Object.assign(props, { [`${prefix}ssl.truststore.type`]: 'PEM', [`${prefix}ssl.truststore.location`]: tls.clientCaFile, [`${prefix}ssl.client.auth`]: 'required' });
  }
  return props;
}

/** The SASL listener's mechanisms and their login modules; PLAIN's users are listed in its JAAS config. */
function saslSettings(sasl: DevBrokerSaslListener): Record<string, string> {
  const prefix = 'listener.name.sasl.';
  const plainUsers = sasl.users.map((u) => ` user_${u.username}="${u.password}"`).join('');
  return {
    [`${prefix}sasl.enabled.mechanisms`]: [...SCRAM_MECHANISMS, 'PLAIN'].join(','),
    [`${prefix}scram-sha-256.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`${prefix}scram-sha-512.sasl.jaas.config`]: 'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    [`${prefix}plain.sasl.jaas.config`]: `org.apache.kafka.common.security.plain.PlainLoginModule required${plainUsers};`,
  };
}

/** The `StorageTool format` arguments that add each SCRAM user, both mechanisms. */
export function scramFormatArgs(chosen: ChosenListeners): string[] {
  return (chosen.sasl?.users ?? []).flatMap((u) => SCRAM_MECHANISMS.flatMap((m) => ['--add-scram', `${m}=[name=${u.username},password=${u.password}]`]));
}

/** Users and passwords go into a JAAS config and a `--add-scram` list: keep to characters neither needs quoted. */
function checkUser(username: string, password: string): void {
  const plain = /^[A-Za-z0-9._@+-]+$/;
  if (!plain.test(username)) throw new Error(`dev broker SASL user ${JSON.stringify(username)}: use letters, digits and . _ @ + - only`);
  // The password is never in the message.
  if (!plain.test(password)) throw new Error(`dev broker SASL user ${username}: its password must be letters, digits and . _ @ + - only`);
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new Error(`the dev broker's TLS ${what} ${file} cannot be read: ${(e as Error).message}`, { cause: e });
  }
}

/** A port free now on {@link HOST} and not in `taken`. */
async function freePort(taken: ReadonlySet<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen({ port: 0, host: HOST, exclusive: true }, () => {
        const p = (server.address() as { port: number }).port;
        server.close(() => done(p));
      });
    });
    if (!taken.has(port)) return port;
  }
}
