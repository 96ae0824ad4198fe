"""Small pieces every l2b2 package shares: config loading, parameters, node start-up, privacy."""
