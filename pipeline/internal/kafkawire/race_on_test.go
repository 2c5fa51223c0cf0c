//go:build race

package kafkawire

// raceDetector tells allocation tests that sync.Pool drops items at random
// under -race, so that code pooling its buffers allocates.
const raceDetector = true
