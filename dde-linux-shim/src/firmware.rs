//! Firmware files for `request_firmware()` (csrc/core/firmware.c): the
//! reincarnation server grants a driver task the files its manifest names as
//! one read-only ustar archive, `firmware`; this maps it once and finds a file
//! by name. A task without the grant (no firmware in its manifest, or a kernel
//! whose server does not make one) has no files.

use core::ffi::{CStr, c_char, c_int};
use rt::obj::Dataspace;
use tar_no_std::TarArchiveRef;

const ENOENT: c_int = 2;

/// The archive, mapped read-only for the task's life; `None` without one.
static ARCHIVE: spin::Once<Option<TarArchiveRef<'static>>> = spin::Once::new();

fn archive() -> Option<&'static TarArchiveRef<'static>> {
    ARCHIVE
        .call_once(|| {
            let ds = Dataspace(rt::env::cap("firmware")?);
            let size = ds.info().ok()?.size;
            let addr = rt::mem::attach(&ds, size, false).ok()?;
            // SAFETY: `size` bytes at `addr` are mapped read-only and never
            // unmapped, and no one writes them: the grant is read-only.
            let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, size as usize) };
            match TarArchiveRef::new(bytes) {
                Ok(tar) => Some(tar),
                Err(e) => {
                    rt::warn!("the firmware archive is unreadable: {:?}", e);
                    None
                }
            }
        })
        .as_ref()
}

/// # Safety
/// `name` must be a NUL-terminated string; `data` and `size` must be valid
/// for writes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn resurgo_firmware_find(name: *const c_char, data: *mut *const u8, size: *mut usize) -> c_int {
    if name.is_null() || data.is_null() || size.is_null() {
        return -ENOENT;
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return -ENOENT };
    let Some(file) = archive().and_then(|tar| tar.entries().find(|e| e.filename().as_str() == Ok(name))) else {
        return -ENOENT;
    };
    let bytes = file.data();
    // SAFETY: the caller guarantees both are writable.
    unsafe {
        *data = bytes.as_ptr();
        *size = bytes.len();
    }
    0
}
