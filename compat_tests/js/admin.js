'use strict'
// kafkajs admin: {action: create|delete|list|metadata|offsets|offsetsForTime|partitions|describeConfigs|
// alterConfigs|createAcls, topic, ...} -> JSON.
const { kafkaFor, main } = require('./common')

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

const actions = {
  async create(admin, { topic, partitions }) {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions || 1, replicationFactor: 1 }],
      timeout: 10000,
      waitForLeaders: true,
    })
    return { created, topics: await admin.listTopics() }
  },
  // Delete, then poll the topic list (bounded) until the topic is gone.
  async delete(admin, { topic }) {
    await admin.deleteTopics({ topics: [topic], timeout: 10000 })
    const deadline = Date.now() + 10000
    let topics = await admin.listTopics()
    while (topics.includes(topic) && Date.now() < deadline) {
      await sleep(200)
      topics = await admin.listTopics()
    }
    return { topics }
  },
  async list(admin) {
    return { topics: await admin.listTopics() }
  },
  async metadata(admin, { topic }) {
    return await admin.fetchTopicMetadata({ topics: [topic] })
  },
  // A multi-broker cluster as kafkajs sees it, and one record produced (acks=all) to every partition's leader.
  async cluster(admin, { topic, partitions, bootstrap }) {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 3 }], timeout: 10000,
                               waitForLeaders: true })
    const producer = kafkaFor({ bootstrap }).producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      const messages = [...Array(partitions).keys()].map(p => ({ partition: p, value: `v${p}` }))
      const produced = await producer.send({ topic, acks: -1, messages })
      return { cluster: await admin.describeCluster(), metadata: await admin.fetchTopicMetadata({ topics: [topic] }),
               produced }
    } finally {
      await producer.disconnect()
    }
  },
  async offsets(admin, { topic }) {
    return await admin.fetchTopicOffsets(topic)
  },
  async offsetsForTime(admin, { topic, timestamp }) {
    return await admin.fetchTopicOffsetsByTimestamp(topic, timestamp)
  },
  // Grow a topic, then what kafkajs sees: partitions, reassignments, and the errors of bad requests.
  async partitions(admin, { topic, count }) {
    const failure = async call => {
      try { await call(); return null } catch (e) { return { type: e.type, message: e.message } }
    }
    await admin.createPartitions({ topicPartitions: [{ topic, count }] })
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] })
    return {
      partitions: topics[0].partitions.map(p => p.partitionId).sort((a, b) => a - b),
      reassignments: await admin.listPartitionReassignments({}),
      decrease: await failure(() => admin.createPartitions({ topicPartitions: [{ topic, count: 1 }] })),
      elsewhere: await failure(() => admin.alterPartitionReassignments({
        topics: [{ topic, partitions: [{ partition: 0, replicas: [2] }] }] })),
    }
  },
  // resources: [{type (2 topic, 4 broker), name, configNames?, configEntries?: [{name, value}]}]
  async describeConfigs(admin, { resources, includeSynonyms }) {
    return await admin.describeConfigs({ resources, includeSynonyms: !!includeSynonyms })
  },
  // acl: [{resourceType, resourceName, resourcePatternType, principal, host, operation, permissionType}]
  // (kafkajs' ACL enums by name: TOPIC, LITERAL, WRITE, ALLOW ...); then what describeAcls finds for the filter
  async createAcls(admin, { acl, filter }) {
    const { AclResourceTypes, ResourcePatternTypes, AclOperationTypes, AclPermissionTypes } = require('kafkajs')
    const coded = a => ({ ...a, resourceType: AclResourceTypes[a.resourceType],
      resourcePatternType: ResourcePatternTypes[a.resourcePatternType], operation: AclOperationTypes[a.operation],
      permissionType: AclPermissionTypes[a.permissionType] })
    try {
      await admin.createAcls({ acl: acl.map(coded) })
    } catch (error) {
      return { error: error.type, message: error.message }
    }
    return await admin.describeAcls(coded(filter))
  },
  async alterConfigs(admin, { resources, validateOnly }) {
    try {
      return await admin.alterConfigs({ resources, validateOnly: !!validateOnly })
    } catch (error) {
      return { error: error.type, message: error.message }
    }
  },
}

main(async params => {
  const admin = kafkaFor(params).admin()
  await admin.connect()
  try {
    return await actions[params.action](admin, params)
  } finally {
    await admin.disconnect()
  }
})
