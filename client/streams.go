package client

// streamsConfig is the builder's streams configuration.
type streamsConfig struct{}

func (c streamsConfig) clone() streamsConfig { return c }

func (c streamsConfig) build(*core) error { return nil }
