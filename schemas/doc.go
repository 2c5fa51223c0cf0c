// Package schemas holds Cohortline's public contracts and their code: the
// activity event format v1 (a fast decoder, validation with stable reason
// codes, the PII guard), the business-category taxonomy, the JSON Schema for
// producers, the Arrow schemas of partials, the flush record (Flush) and
// the ClickHouse DDL. Contracts only: it does no I/O, and imports nothing
// else of the module (arch_test.go checks it).
package schemas
