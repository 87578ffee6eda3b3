"""The edges of the service: settings, the Temporal client factory, logging, registration."""
