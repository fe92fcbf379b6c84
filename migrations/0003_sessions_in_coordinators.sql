-- Sessions now live in each user's coordinator (Durable Object); tokens issued before this are no longer valid.
DROP TABLE `sessions`;
