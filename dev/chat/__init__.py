"""The local cloud's chat: an incoming-webhook sink that records the alerts the pipeline posts."""
