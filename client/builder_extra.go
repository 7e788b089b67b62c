package client

// builderExtra holds the configuration of the features that live in their own files. Each
// feature owns one field, and its own clone and build in its own file, so features do not edit
// each other's code. clone copies it for an immutable Builder; build fills the shared core.
type builderExtra struct {
	events  eventsConfig  // events.go
	streams streamsConfig // streams.go
	limits  limitsConfig  // builder_limits.go
}

func (x builderExtra) clone() builderExtra {
	return builderExtra{events: x.events.clone(), streams: x.streams.clone(), limits: x.limits}
}

func (x builderExtra) build(c *core) error {
	x.limits.build(c)
	if err := x.events.build(c); err != nil {
		return err
	}
	return x.streams.build(c)
}
