'use strict'
// kafkajs consumer group: subscribe {topic} as {groupId}, take {count} messages, commit, report committed.
const { kafkaFor, messageJson, main } = require('./common')

main(async ({ topic, groupId, count, timeoutMs = 15000, ...params }) => {
  const kafka = kafkaFor(params)
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout: 10000,
    rebalanceTimeout: 10000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 100,
  })
  const admin = kafka.admin()
  await consumer.connect()
  await admin.connect()
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true })
    const messages = []
    let enough
    const done = new Promise(resolve => (enough = resolve))
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (messages.length < count) messages.push(messageJson(message))
        if (messages.length === count) enough()
      },
    })
    await Promise.race([done, new Promise(resolve => setTimeout(resolve, timeoutMs))])
    if (messages.length) {
      const next = String(messages[messages.length - 1].offset + 1)
      await consumer.commitOffsets([{ topic, partition: 0, offset: next }])
    }
    await consumer.stop()
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] })
    return { messages, committed: committed.partitions }
  } finally {
    await consumer.disconnect()
    await admin.disconnect()
  }
})
