'use strict'
// kafkajs transactions. {action: 'run', topic, transactionalId, plan: [[outcome, [values]]]}: one transaction
// per plan entry writing the values to partition 0, then commit or abort. {action: 'transform', source,
// destination, groupId, transactionalId, commit}: consume source partition 0 as groupId, write value
// upper-cased to destination and sendOffsets (the offset after the last record) in one transaction.
const { Partitioners } = require('kafkajs')
const { kafkaFor, main } = require('./common')

function transactionalProducer(kafka, transactionalId, timeoutMs) {
  return kafka.producer({
    transactionalId,
    idempotent: true,
    maxInFlightRequests: 1,
    transactionTimeout: timeoutMs,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
}

async function run(kafka, { topic, transactionalId, plan, timeoutMs }) {
  const producer = transactionalProducer(kafka, transactionalId, timeoutMs)
  await producer.connect()
  try {
    for (const [outcome, values] of plan) {
      const txn = await producer.transaction()
      await txn.send({ topic, messages: values.map(value => ({ partition: 0, value })) })
      await (outcome === 'commit' ? txn.commit() : txn.abort())
    }
    return { ok: true }
  } finally {
    await producer.disconnect()
  }
}

async function transform(kafka, { source, destination, groupId, transactionalId, commit, timeoutMs }) {
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10000, heartbeatInterval: 1000 })
  const producer = transactionalProducer(kafka, transactionalId, timeoutMs)
  await consumer.connect()
  await producer.connect()
  try {
    await consumer.subscribe({ topics: [source], fromBeginning: true })
    const records = []
    let enough
    const done = new Promise(resolve => (enough = resolve))
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message }) => {
        if (records.length < 4) records.push(message)
        if (records.length === 4) enough()
      },
    })
    await Promise.race([done, new Promise(resolve => setTimeout(resolve, 20000))])
    await consumer.stop()
    if (records.length !== 4) throw new Error(`read ${records.length} of 4 records`)
    const txn = await producer.transaction()
    await txn.send({
      topic: destination,
      messages: records.map(m => ({ partition: 0, value: m.value.toString('utf8').toUpperCase() })),
    })
    const next = String(Number(records[records.length - 1].offset) + 1)
    await txn.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: source, partitions: [{ partition: 0, offset: next }] }] })
    await (commit ? txn.commit() : txn.abort())
    return { ok: true }
  } finally {
    await consumer.disconnect()
    await producer.disconnect()
  }
}

main(async ({ action, ...params }) => {
  const kafka = kafkaFor(params)
  return action === 'run' ? run(kafka, params) : transform(kafka, params)
})
