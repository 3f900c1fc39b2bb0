// The "redis" jest project: the same job suites, with every service under test on QueueBackend=redis.
process.env.TEST_QUEUE_BACKEND = 'redis';
