'use strict'
// Shared by the compat scripts: JSON parameters in argv[2], one JSON result line on stdout, logs on stderr.
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')

const stderrLogCreator = () => ({ namespace, label, log }) => {
  process.stderr.write(JSON.stringify({ label, namespace, ...log }) + '\n')
}

// {ssl: true | {ca, cert, key} (PEM file paths), sasl: {mechanism, username, password}}: the security tests
function sslFor(ssl) {
  if (!ssl || ssl === true) return ssl
  const read = path => (path ? fs.readFileSync(path) : undefined)
  return { ca: ssl.ca ? [read(ssl.ca)] : undefined, cert: read(ssl.cert), key: read(ssl.key) }
}

// sasl {mechanism: 'oauthbearer', token}: an unsecured JWS handed out by the provider kafkajs asks for
function saslFor(sasl) {
  if (!sasl || sasl.mechanism !== 'oauthbearer') return sasl
  return { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: sasl.token }) }
}

function kafkaFor(params) {
  return new Kafka({
    clientId: 'compat-kafkajs',
    brokers: params.bootstrap.split(','),
    ssl: sslFor(params.ssl),
    sasl: saslFor(params.sasl),
    connectionTimeout: 3000,
    requestTimeout: 10000,
    retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.WARN,
    logCreator: stderrLogCreator,
  })
}

// A decoded kafkajs message as plain JSON: strings for key/value, ordered [name, value] header pairs.
function messageJson(message) {
  const text = buffer => (buffer == null ? null : buffer.toString('utf8'))
  const headers = []
  for (const [name, value] of Object.entries(message.headers || {})) {
    for (const one of Array.isArray(value) ? value : [value]) headers.push([name, text(one)])
  }
  return {
    offset: Number(message.offset),
    key: text(message.key),
    value: text(message.value),
    headers,
    timestamp: Number(message.timestamp),
  }
}

async function main(run) {
  const params = JSON.parse(process.argv[2] || '{}')
  try {
    const result = await run(params)
    process.stdout.write(JSON.stringify(result) + '\n')
    process.exit(0)
  } catch (e) {
    process.stdout.write(JSON.stringify({ error: String((e && e.stack) || e), type: e && e.type }) + '\n')
    process.exit(1)
  }
}

module.exports = { kafkaFor, messageJson, main }
