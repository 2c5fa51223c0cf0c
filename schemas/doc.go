// Package schemas holds Cohortline's public contracts and their code: the
// activity event format v1 (a fast decoder, validation with stable reason
// codes, the PII guard), the business-category taxonomy, the JSON Schema for
// producers, and later the Arrow schemas and ClickHouse DDL. It does no I/O.
package schemas
