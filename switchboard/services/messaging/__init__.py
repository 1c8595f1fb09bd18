"""Text messaging: segments, consent keywords, sending, receiving, transports."""
