'use strict'
// Read one partition without a consumer group: kafkajs's own cluster, Fetch request and message filtering
// (the consumer's Batch class), from {offset} until {count} messages or {timeoutMs}; {isolationLevel} 1
// (read_committed, kafkajs's default) or 0.
const Batch = require('kafkajs/src/consumer/batch')
const { kafkaFor, messageJson, main } = require('./common')

const READ_COMMITTED = 1

main(async ({ topic, partition = 0, offset = 0, count, timeoutMs = 10000, isolationLevel = READ_COMMITTED, ...params }) => {
  const kafka = kafkaFor(params)
  // Kafka#createCluster is private; it is the factory the kafkajs consumer itself uses.
  const createCluster = kafka[
    Object.getOwnPropertySymbols(kafka).find(s => s.description === 'private:Kafka:createCluster')
  ]
  const cluster = createCluster({ metadataMaxAge: 300000, isolationLevel })
  await cluster.connect()
  try {
    await cluster.addTargetTopic(topic)
    const [nodeId] = Object.keys(cluster.findLeaderForPartitions(topic, [partition]))
    const broker = await cluster.findBroker({ nodeId })
    const messages = []
    let next = offset
    const deadline = Date.now() + timeoutMs
    while (messages.length < count && Date.now() < deadline) {
      const { responses } = await broker.fetch({
        isolationLevel,
        maxWaitTime: 100,
        minBytes: 1,
        maxBytes: 1048576,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(next), maxBytes: 1048576 }] }],
      })
      for (const { partitions } of responses) {
        for (const partitionData of partitions) {
          const batch = new Batch(topic, String(next), partitionData)
          messages.push(...batch.messages.map(messageJson))
          if (!batch.isEmptyIncludingFiltered()) next = Number(batch.lastOffset()) + 1
        }
      }
    }
    return { messages }
  } finally {
    await cluster.disconnect()
  }
})
