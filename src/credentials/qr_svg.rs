//! The verification address as a QR code in SVG, for the print page: one path of
//! dark modules with a quiet zone, so it prints crisply at any size.
use qrcode::{Color, EcLevel, QrCode};

pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)?;
    let width = code.width();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut path = String::new();
    for (i, color) in code.to_colors().into_iter().enumerate() {
        if color == Color::Dark {
            let (x, y) = (i % width + quiet, i / width + quiet);
            path.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code of the verification address\"><rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_code_has_a_dark_module_per_dark_cell_and_a_quiet_zone() {
        let svg = super::qr_svg("https://attest.example/verify/28T5-CY4T-QKFF-A").expect("fits");
        let code = qrcode::QrCode::with_error_correction_level(
            "https://attest.example/verify/28T5-CY4T-QKFF-A".as_bytes(),
            qrcode::EcLevel::M,
        )
        .expect("fits");
        let dark = code
            .to_colors()
            .into_iter()
            .filter(|c| *c == qrcode::Color::Dark)
            .count();
        assert_eq!(svg.matches("h1v1h-1z").count(), dark);
        let size = code.width() + 8;
        assert!(svg.contains(&format!("viewBox=\"0 0 {size} {size}\"")));
        // The finder pattern's corner sits inside the quiet zone's edge.
        assert!(svg.contains("M4 4h1v1h-1z"));
    }
}
