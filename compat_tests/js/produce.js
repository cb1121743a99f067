'use strict'
// kafkajs producer: {topic, messages: [{key, value, headers: [[k, v]], timestamp}], acks, compression,
// idempotent} -> the per-partition results of one send() to partition 0.
const { CompressionTypes, Partitioners } = require('kafkajs')
const { kafkaFor, main } = require('./common')

const CODECS = { none: CompressionTypes.None, gzip: CompressionTypes.GZIP }

main(async ({ topic, messages, acks = -1, compression = 'none', idempotent = false, ...params }) => {
  const producer = kafkaFor(params).producer({
    idempotent,
    maxInFlightRequests: idempotent ? 1 : undefined,
    createPartitioner: Partitioners.DefaultPartitioner,
    allowAutoTopicCreation: false,
  })
  await producer.connect()
  try {
    return await producer.send({
      topic,
      acks,
      compression: CODECS[compression],
      messages: messages.map(m => ({
        partition: 0,
        key: m.key,
        value: m.value,
        headers: Object.fromEntries(m.headers),
        timestamp: String(m.timestamp),
      })),
    })
  } finally {
    await producer.disconnect()
  }
})
