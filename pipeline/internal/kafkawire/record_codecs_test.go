package kafkawire

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/pierrec/lz4/v4"
	"github.com/segmentio/kafka-go/compress/snappy"
)

// testCompressor compresses records as a producer would for codec.
type testCompressor struct {
	name     string
	codec    uint16
	compress func([]byte) []byte // nil for codec none
}

// testCompressors are kafka-go's Writer codecs, codec none first.
func testCompressors(t testing.TB) []testCompressor {
	out := []testCompressor{{name: "none"}}
	for _, c := range testCodecs[1:] {
		out = append(out, testCompressor{c.name, uint16(c.codec), func(b []byte) []byte {
			return compressWith(t, c.codec.Codec().NewWriter, b)
		}})
	}
	return out
}

// compressWith writes b through the writer newWriter makes.
func compressWith(t testing.TB, newWriter func(io.Writer) io.WriteCloser, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecompressFormats decompresses each codec in the forms producers
// write: kafka-go's, snappy without xerial framing, gzip of two members,
// lz4 frames with small blocks, block and content checksums, a content
// size, stored blocks, linked blocks, two frames in a row.
func TestDecompressFormats(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	data := testValue(rng, 300<<10, false)
	noisy := testValue(rng, 200<<10, true)
	lz4Frame := func(src []byte, opts ...lz4.Option) []byte {
		return compressWith(t, func(w io.Writer) io.WriteCloser {
			z := lz4.NewWriter(w)
			if err := z.Apply(opts...); err != nil {
				t.Fatal(err)
			}
			return z
		}, src)
	}
	cases := []struct {
		name       string
		codec      uint16
		compressed []byte
		want       []byte
	}{
		{"snappy unframed", codecSnappy, compressWith(t, (&snappy.Codec{Framing: snappy.Unframed}).NewWriter, data), data},
		{"gzip of two members", codecGzip, append(gzipOf(t, data[:1000]), gzipOf(t, data[1000:])...), data},
		{"lz4 64 KiB blocks with checksums and size", codecLz4, lz4Frame(data, lz4.BlockSizeOption(lz4.Block64Kb),
			lz4.BlockChecksumOption(true), lz4.ChecksumOption(true), lz4.SizeOption(uint64(len(data)))), data},
		{"lz4 stored blocks", codecLz4, lz4Frame(noisy, lz4.BlockSizeOption(lz4.Block64Kb), lz4.ChecksumOption(false)), noisy},
		{"lz4 two frames", codecLz4, append(lz4Frame(data[:5000]), lz4Frame(data[5000:])...), data},
		{"lz4 linked blocks", codecLz4, linkedLz4Frame(), append(bytes.Repeat([]byte("abcdefghijklmnopqrstuvwxyz0123456789"), 2), "HELLO"...)},
	}
	for _, c := range testCompressors(t)[1:] {
		cases = append(cases, struct {
			name       string
			codec      uint16
			compressed []byte
			want       []byte
		}{"kafka-go " + c.name, c.codec, c.compress(data), data})
	}
	var d decompressor
	defer d.close()
	for _, c := range cases {
		got, err := d.decompress(c.codec, c.compressed)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: %d bytes, %v; want %d bytes", c.name, len(got), err, len(c.want))
		}
		// Cut short, never a panic, and an error unless the cut fell
		// between two gzip members or two lz4 frames.
		for cut := 0; cut < len(c.compressed); cut += 1 + len(c.compressed)/50 {
			if got, err := d.decompress(c.codec, c.compressed[:cut]); err == nil && bytes.Equal(got, c.want) {
				t.Errorf("%s cut at %d of %d bytes decompressed whole", c.name, cut, len(c.compressed))
			}
		}
	}
}

func gzipOf(t *testing.T, b []byte) []byte {
	return compressWith(t, func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) }, b)
}

// linkedLz4Frame is an lz4 frame of linked blocks, which lz4's reference
// library writes by default and pierrec/lz4 cannot: a stored block of 36
// bytes, then a block that copies them from the one before (offset 36,
// length 36) and ends with 5 literals.
func linkedLz4Frame() []byte {
	first := []byte("abcdefghijklmnopqrstuvwxyz0123456789")
	second := []byte{
		0x0f, 36, 0, 36 - 4 - 15, // no literal; a match at offset 36 of 4+15+17 bytes
		0x50, 'H', 'E', 'L', 'L', 'O', // 5 literals, no match
	}
	f := binary.LittleEndian.AppendUint32(nil, lz4FrameMagic)
	f = append(f, 0x40, 0x40, 0) // version 1, linked blocks, no checksums; 64 KiB blocks; header checksum (not read)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(first))|1<<31)
	f = append(f, first...)
	f = binary.LittleEndian.AppendUint32(f, uint32(len(second)))
	f = append(f, second...)
	return binary.LittleEndian.AppendUint32(f, 0)
}

// TestDecompressRefuses what it cannot read right: a frame that needs a
// dictionary, a reserved block size, a linked block read as independent.
func TestDecompressRefuses(t *testing.T) {
	independent := linkedLz4Frame()
	independent[4] |= 0x20
	withDict := linkedLz4Frame()
	withDict[4] |= 1
	reservedSize := linkedLz4Frame()
	reservedSize[5] = 0x20
	var d decompressor
	for _, c := range []struct {
		name  string
		frame []byte
		want  string
	}{
		{"independent", independent, "lz4"},
		{"dictionary", withDict, "needs a dictionary"},
		{"reserved block size", reservedSize, "block size code 2"},
	} {
		if _, err := d.decompress(codecLz4, c.frame); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
