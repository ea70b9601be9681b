"""Live streaming: the simulation continued as events to Event Hubs, Fabric, Kafka and files."""
