package client

// eventsConfig is the builder's events configuration (registry, validation options).
type eventsConfig struct{}

func (c eventsConfig) clone() eventsConfig { return c }

func (c eventsConfig) build(*core) error { return nil }
