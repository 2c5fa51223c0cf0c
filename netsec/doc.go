// Package netsec holds the settings that secure a connection to a server,
// shared by every Kafka and ClickHouse connection of the product: the
// tls block of the config (CA bundle, client certificate, server name,
// minimum version) built into a *tls.Config, and passwords read from an
// environment variable or a file, never from the config file itself.
//
// It imports nothing of ours, so that pipeline/ and sinks/ both use it
// and a TLS setting means the same under kafka: as under clickhouse:.
package netsec
