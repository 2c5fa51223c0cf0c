package kafkawire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// The compression codecs of a record batch: its attributes & 7.
const (
	codecNone   = 0
	codecGzip   = 1
	codecSnappy = 2
	codecLz4    = 3
	codecZstd   = 4
)

// decompressor decompresses the records of one batch at a time into a
// buffer it keeps, with decoders it keeps: after the first batches of a
// partition, decompressing allocates nothing. Checksums inside the
// compressed data (lz4's, zstd's) are not verified: the batch's CRC-32C
// already covers those bytes.
type decompressor struct {
	out  []byte
	src  bytes.Reader // gzip's input
	gzip *gzip.Reader
	zstd *zstd.Decoder
}

// decompress returns the records of a batch compressed with codec; they
// stay valid until the next call.
func (d *decompressor) decompress(codec uint16, src []byte) ([]byte, error) {
	var err error
	switch codec {
	case codecNone:
		return src, nil
	case codecGzip:
		d.out, err = d.gunzip(d.out[:0], src)
	case codecSnappy:
		d.out, err = unsnappy(d.out[:0], src)
	case codecLz4:
		d.out, err = unlz4(d.out[:0], src)
	case codecZstd:
		d.out, err = d.unzstd(d.out[:0], src)
	default:
		return nil, fmt.Errorf("unknown compression codec %d", codec)
	}
	if err != nil {
		return nil, fmt.Errorf("decompressing records (codec %d): %w", codec, err)
	}
	return d.out, nil
}

// close releases the zstd decoder's memory.
func (d *decompressor) close() {
	if d.zstd != nil {
		d.zstd.Close()
		d.zstd = nil
	}
}

// errTooLarge bounds what a batch may decompress to, so that a corrupt or
// hostile one cannot take all the memory.
var errTooLarge = fmt.Errorf("records decompress to more than %d bytes", fetchSizeLimit)

func (d *decompressor) gunzip(out, src []byte) ([]byte, error) {
	d.src.Reset(src)
	var err error
	if d.gzip == nil {
		d.gzip, err = gzip.NewReader(&d.src)
	} else {
		err = d.gzip.Reset(&d.src)
	}
	if err != nil {
		return out, err
	}
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, max(len(out), 64<<10))
		}
		n, err := d.gzip.Read(out[len(out):cap(out)])
		out = out[:len(out)+n]
		switch {
		case len(out) > fetchSizeLimit:
			return out, errTooLarge
		case err == io.EOF:
			return out, nil
		case err != nil:
			return out, err
		}
	}
}

func (d *decompressor) unzstd(out, src []byte) ([]byte, error) {
	if d.zstd == nil {
		var err error
		d.zstd, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
			zstd.IgnoreChecksum(true), zstd.WithDecoderMaxMemory(fetchSizeLimit))
		if err != nil {
			return out, err
		}
	}
	return d.zstd.DecodeAll(src, out)
}

// xerialMagic starts snappy data in the xerial framing that Kafka's Java
// clients write: the magic, two int32 versions, then chunks of an int32
// length and a snappy block. Other clients write one plain snappy block;
// both are accepted, as kafka-go does.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

const xerialHeaderSize = 16

func unsnappy(out, src []byte) ([]byte, error) {
	if len(src) < xerialHeaderSize || !bytes.Equal(src[:len(xerialMagic)], xerialMagic) {
		return appendSnappyBlock(out, src)
	}
	for i := xerialHeaderSize; i < len(src); {
		if len(src)-i < 4 {
			return out, io.ErrUnexpectedEOF
		}
		n := int(binary.BigEndian.Uint32(src[i:]))
		i += 4
		if n > len(src)-i {
			return out, io.ErrUnexpectedEOF
		}
		var err error
		if out, err = appendSnappyBlock(out, src[i:i+n]); err != nil {
			return out, err
		}
		i += n
	}
	return out, nil
}

func appendSnappyBlock(out, block []byte) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return out, err
	}
	if len(out)+n > fetchSizeLimit {
		return out, errTooLarge
	}
	out = slices.Grow(out, n)
	if _, err := snappy.Decode(out[len(out):len(out)+n], block); err != nil {
		return out, err
	}
	return out[:len(out)+n], nil
}

// The lz4 frame format (lz4's doc/lz4_Frame_format.md), which Kafka uses.
const (
	lz4FrameMagic = 0x184D2204
	lz4Window     = 64 << 10 // how far back a linked block's matches reach
)

// lz4BlockMax is the largest block of each block-size code of a frame's BD
// byte; 0 marks the codes the format reserves.
var lz4BlockMax = [8]int{4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20}

// unlz4 decompresses lz4 frames, one after another, block by block: the
// frame parsing of lz4.Reader without its copies and checksums.
func unlz4(out, src []byte) ([]byte, error) {
	for len(src) > 0 {
		var err error
		if out, src, err = appendLz4Frame(out, src); err != nil {
			return out, err
		}
	}
	return out, nil
}

// appendLz4Frame decompresses the frame src starts with and returns what
// follows it.
func appendLz4Frame(out, src []byte) ([]byte, []byte, error) {
	if len(src) < 7 || binary.LittleEndian.Uint32(src) != lz4FrameMagic {
		return out, nil, errors.New("not an lz4 frame")
	}
	flags, bd := src[4], src[5]
	switch {
	case flags>>6 != 1:
		return out, nil, fmt.Errorf("lz4 frame version %d", flags>>6)
	case flags&1 != 0:
		return out, nil, errors.New("lz4 frame needs a dictionary")
	}
	blockMax := lz4BlockMax[bd>>4&7]
	if blockMax == 0 {
		return out, nil, fmt.Errorf("lz4 block size code %d", bd>>4&7)
	}
	linked, blockChecksum, contentSize, contentChecksum := flags&0x20 == 0, flags&0x10 != 0, flags&8 != 0, flags&4 != 0
	i := 6
	if contentSize {
		i += 8
	}
	i++ // header checksum
	frameStart := len(out)
	for {
		if len(src)-i < 4 {
			return out, nil, io.ErrUnexpectedEOF
		}
		size := binary.LittleEndian.Uint32(src[i:])
		i += 4
		if size == 0 {
			break // EndMark
		}
		stored := size&(1<<31) != 0
		n := int(size &^ (1 << 31))
		if n > blockMax || n > len(src)-i {
			return out, nil, fmt.Errorf("lz4 block of %d bytes: at most %d, %d left", n, blockMax, len(src)-i)
		}
		block := src[i : i+n]
		i += n
		if blockChecksum {
			i += 4
		}
		if len(out)+blockMax > fetchSizeLimit {
			return out, nil, errTooLarge
		}
		if stored {
			out = append(out, block...)
			continue
		}
		out = slices.Grow(out, blockMax)
		dst := out[len(out) : len(out)+blockMax]
		var err error
		if linked {
			n, err = lz4.UncompressBlockWithDict(block, dst, out[max(frameStart, len(out)-lz4Window):])
		} else {
			n, err = lz4.UncompressBlock(block, dst)
		}
		if err != nil {
			return out, nil, err
		}
		out = out[:len(out)+n]
	}
	if contentChecksum {
		i += 4
	}
	if i > len(src) {
		return out, nil, io.ErrUnexpectedEOF
	}
	return out, src[i:], nil
}
