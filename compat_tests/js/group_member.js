'use strict'
// One kafkajs consumer-group member, kept running: the same JSON-lines events and stdin commands as
// compat_tests/group_member.py (started, assigned, records, committed, error, closed; commit, close).
// Parameters: {bootstrap, topic, group_id, commit: "each" | "none", config: {kafkajs consumer options}}.
const readline = require('readline')
const { kafkaFor } = require('./common')

const emit = (event, fields = {}) =>
  process.stdout.write(JSON.stringify({ event, at: Date.now() / 1000, ...fields }) + '\n')

async function member({ topic, group_id: groupId, commit, config = {}, ...params }) {
  const kafka = kafkaFor(params)
  const consumer = kafka.consumer({
    groupId, sessionTimeout: 6000, heartbeatInterval: 1000, maxWaitTimeInMs: 100, ...config,
  })
  let owned = []
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // kafkajs is eager: every join hands over the whole assignment, so it is both revocation and grant
    owned = [...(payload.memberAssignment[topic] || [])].sort((a, b) => a - b)
    emit('assigned', { partitions: owned, owned })
  })
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    const { error, restart } = payload
    emit('error', { where: 'crash', error: error.type || error.name, message: String(error), fatal: !restart })
  })

  const commitOffsets = async offsets => {
    const entries = Object.entries(offsets)
    if (!entries.length) return
    try {
      await consumer.commitOffsets(
        entries.map(([partition, offset]) => ({ topic, partition: Number(partition), offset: String(offset) })))
      emit('committed', { offsets })
    } catch (e) {
      emit('error', { where: 'commit', error: e.type || e.name, message: String(e), fatal: false })
    }
  }

  let closing = null
  const close = () => {
    closing = closing || consumer.disconnect().then(() => { emit('closed'); process.exit(0) })
    return closing
  }
  const lines = readline.createInterface({ input: process.stdin })
  lines.on('line', line => {
    if (!line.trim()) return
    const command = JSON.parse(line)
    if (command.op === 'close') close()
    else if (command.op === 'commit') commitOffsets(command.offsets)
  })
  lines.on('close', close)

  await consumer.connect()
  await consumer.subscribe({ topics: [topic], fromBeginning: true })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (!batch.messages.length) return
      const partition = batch.partition
      const records = batch.messages.map(m => [partition, Number(m.offset), m.value == null ? null : String(m.value)])
      emit('records', { records })
      if (commit === 'each') await commitOffsets({ [partition]: records[records.length - 1][1] + 1 })
    },
  })
  emit('started')
}

member(JSON.parse(process.argv[2] || '{}')).catch(e => {
  emit('error', { where: 'start', error: e.type || e.name, message: String((e && e.stack) || e), fatal: true })
  process.exit(1)
})
