//! The deflate decoder under [`super::gzip::GzipReader`]: zlib-rs (through
//! `flate2`) by default, or Intel's ISA-L (`isal_inflate`) with the cargo
//! feature `isal`. The gzip reader keeps the member headers, the messages
//! and the rules for damage; a backend only turns deflate data into bytes,
//! counts what it took and gave, and keeps the CRC-32 and length of a
//! member's output for its trailer (RFC 1952 §2.3.1).
//!
//! Both stop exactly at the end of a member's deflate data (zlib-rs), or of
//! its 8-byte trailer (ISA-L, which checks the trailer itself), so the next
//! member's header is read from the very next byte.

/// What one [`Inflater::inflate`] call did.
pub(super) struct Step {
    /// Input bytes taken.
    pub consumed: usize,
    /// Output bytes written to the start of the output buffer.
    pub produced: usize,
    /// Where the member stands after the call.
    pub state: Member,
}

/// Where a member's decoding stands after a call.
pub(super) enum Member {
    /// More deflate data (or, with ISA-L, trailer bytes) is wanted.
    Going,
    /// The deflate data ended; the 8-byte trailer is next in the input, for
    /// the gzip reader to check against `Inflater::sums` (zlib-rs).
    #[cfg_attr(feature = "isal", allow(dead_code))]
    DeflateEnd,
    /// The deflate data and the trailer were read, and the trailer matches
    /// the output's CRC-32 and length (ISA-L).
    #[cfg_attr(not(feature = "isal"), allow(dead_code))]
    Checked,
    /// The trailer was read and does not match the output (ISA-L).
    #[cfg_attr(not(feature = "isal"), allow(dead_code))]
    BadTrailer,
    /// The deflate data is invalid: the decoder's own words.
    Corrupt(String),
}

#[cfg(not(feature = "isal"))]
pub(super) use zlib::Inflater;

#[cfg(feature = "isal")]
pub(super) use isal::Inflater;

#[cfg(not(feature = "isal"))]
mod zlib {
    use super::{Member, Step};
    use flate2::{Decompress, FlushDecompress, Status};

    /// CRC-32 and length (mod 2^32) of a member's decoded bytes, as its
    /// trailer holds them. `crc32fast` (PCLMULQDQ) rather than
    /// `flate2::Crc`, which with the zlib-rs backend is zlib-rs's portable
    /// "braid" CRC: 12 % of the CPU of reading a `.gz` (perf, issue 9).
    #[derive(Default)]
    struct Crc {
        hasher: crc32fast::Hasher,
        amount: u32,
    }

    /// Raw deflate through zlib-rs; the gzip reader reads the trailer.
    pub struct Inflater {
        inflate: Decompress,
        crc: Crc,
    }

    impl Inflater {
        pub fn new() -> Inflater {
            Inflater {
                inflate: Decompress::new(false),
                crc: Crc::default(),
            }
        }

        /// Start a new member.
        pub fn reset(&mut self) {
            self.inflate.reset(false);
            self.crc = Crc::default();
        }

        /// Whether the input ended inside the trailer: never here, where the
        /// gzip reader reads the trailer itself.
        pub fn in_trailer(&self) -> bool {
            false
        }

        /// CRC-32 and length mod 2^32 of the member's output so far.
        pub fn sums(&self) -> (u32, u32) {
            (self.crc.hasher.clone().finalize(), self.crc.amount)
        }

        pub fn inflate(&mut self, input: &[u8], dst: &mut [u8]) -> Step {
            let (in0, out0) = (self.inflate.total_in(), self.inflate.total_out());
            // flate2 counts what it took and gave even when it fails, so the
            // bytes decoded before damage are kept
            let res = self.inflate.decompress(input, dst, FlushDecompress::None);
            let consumed = (self.inflate.total_in() - in0) as usize;
            let produced = (self.inflate.total_out() - out0) as usize;
            self.crc.hasher.update(&dst[..produced]);
            self.crc.amount = self.crc.amount.wrapping_add(produced as u32);
            let state = match res {
                Err(e) => Member::Corrupt(e.to_string()),
                Ok(Status::StreamEnd) => Member::DeflateEnd,
                Ok(_) => Member::Going,
            };
            Step {
                consumed,
                produced,
                state,
            }
        }
    }
}

#[cfg(feature = "isal")]
mod isal {
    use super::{Member, Step};
    use isal_sys::igzip_lib as ffi;

    /// ISA-L's stateful inflate (`igzip_lib.h`), raw deflate followed by a
    /// gzip trailer that ISA-L checks: `crc_flag = ISAL_GZIP_NO_HDR_VER`,
    /// as `igzip -d` decodes a member once it has read the header itself
    /// (isa-l `programs/igzip_cli.c`). The gzip reader reads the header.
    pub struct Inflater {
        state: Box<ffi::inflate_state>,
    }

    // SAFETY: the state holds raw pointers only into the buffers handed to
    // one `inflate` call (set at its start, never used after it returns);
    // everything else is plain data that ISA-L keeps in the struct itself
    // (its Huffman tables, bit buffer and history). Nothing in it is tied to
    // the thread that made it.
    unsafe impl Send for Inflater {}

    impl Inflater {
        pub fn new() -> Inflater {
            // about 80 KiB (ISA-L's history window and Huffman tables): made
            // on the heap, not on the stack and copied
            let layout = std::alloc::Layout::new::<ffi::inflate_state>();
            // SAFETY: the layout is not zero-sized.
            let raw = unsafe { std::alloc::alloc_zeroed(layout) }.cast::<ffi::inflate_state>();
            if raw.is_null() {
                std::alloc::handle_alloc_error(layout);
            }
            // SAFETY: `raw` was allocated by the global allocator with the
            // layout of `inflate_state`, and is initialized: every field of
            // it is an integer, an array of integers, a union of integers or
            // a raw pointer, for which all-zero bytes are a valid value.
            // `isal_inflate_init` then sets the state up as its
            // documentation asks before the first `isal_inflate`.
            let mut state = unsafe { Box::from_raw(raw) };
            // SAFETY: `state` points to a whole, writable `inflate_state`.
            unsafe { ffi::isal_inflate_init(&mut *state) };
            state.crc_flag = ffi::ISAL_GZIP_NO_HDR_VER;
            Inflater { state }
        }

        /// Start a new member.
        pub fn reset(&mut self) {
            // SAFETY: `state` was set up by `isal_inflate_init`.
            unsafe { ffi::isal_inflate_reset(&mut *self.state) };
            self.state.crc_flag = ffi::ISAL_GZIP_NO_HDR_VER;
        }

        /// Whether the deflate data ended and ISA-L waits for (the rest of)
        /// the trailer: where a cut stream that ends now was cut.
        pub fn in_trailer(&self) -> bool {
            self.state.block_state == ffi::isal_block_state_ISAL_CHECKSUM_CHECK
        }

        /// CRC-32 and length mod 2^32 of the member's output so far (the
        /// gzip reader never asks: ISA-L checks the trailer itself).
        pub fn sums(&self) -> (u32, u32) {
            (self.state.crc, self.state.total_out)
        }

        pub fn inflate(&mut self, input: &[u8], dst: &mut [u8]) -> Step {
            // avail_in and avail_out are u32
            let input = &input[..input.len().min(u32::MAX as usize)];
            let out_len = dst.len().min(u32::MAX as usize);
            let s = &mut *self.state;
            // ISA-L only reads through next_in (it is `uint8_t *` in the C
            // header, but no path of isal_inflate writes to it)
            s.next_in = input.as_ptr().cast_mut();
            s.avail_in = input.len() as u32;
            s.next_out = dst.as_mut_ptr();
            s.avail_out = out_len as u32;
            // SAFETY: next_in/avail_in describe `input`, readable for the
            // call, and next_out/avail_out `dst`, writable for the call;
            // ISA-L reads and writes only within them and its own state.
            let ret = unsafe { ffi::isal_inflate(s) };
            let consumed = input.len() - s.avail_in as usize;
            let produced = out_len - s.avail_out as usize;
            // the pointers are not kept past this call
            s.next_in = std::ptr::null_mut();
            s.next_out = std::ptr::null_mut();
            s.avail_in = 0;
            s.avail_out = 0;
            let state = match ret {
                r if r == ffi::ISAL_DECOMP_OK as i32 => {
                    if s.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH {
                        Member::Checked
                    } else {
                        Member::Going
                    }
                }
                ffi::ISAL_INCORRECT_CHECKSUM => Member::BadTrailer,
                r => Member::Corrupt(describe(r)),
            };
            Step {
                consumed,
                produced,
                state,
            }
        }
    }

    /// An ISA-L error code in words, worded as zlib words the same faults
    /// (flate2 prefixes zlib's message with "deflate decompression error").
    fn describe(code: i32) -> String {
        let what = match code {
            // a block type 3, a stored block whose LEN/NLEN disagree, or a
            // Huffman code description that is not a valid code
            ffi::ISAL_INVALID_BLOCK => "invalid block",
            ffi::ISAL_INVALID_SYMBOL => "invalid literal/length or distance code",
            ffi::ISAL_INVALID_LOOKBACK => "invalid distance too far back",
            _ => return format!("deflate decompression error (ISA-L code {code})"),
        };
        format!("deflate decompression error: {what}")
    }
}
