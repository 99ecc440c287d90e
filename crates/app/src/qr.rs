//! Reading a device link's QR code from a picture: the command line's image file, the
//! installable app's camera frames. rqrr (pure Rust) runs natively and in WebAssembly.

/// The text of the first readable QR code in a greyscale image (`luma`: one byte a pixel,
/// row by row, `width` × `height`); `None` when there is none.
pub fn read(width: usize, height: usize, luma: &[u8]) -> Option<String> {
    if width == 0 || height == 0 || luma.len() != width.checked_mul(height)? {
        return None;
    }
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| luma[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .find_map(|grid| grid.decode().ok().map(|(_, text)| text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_image_without_a_code_or_of_the_wrong_size_reads_as_nothing() {
        assert_eq!(read(4, 4, &[255; 16]), None);
        assert_eq!(read(4, 4, &[255; 15]), None);
        assert_eq!(read(0, 0, &[]), None);
    }
}
