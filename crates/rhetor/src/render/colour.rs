//! Colour maths shared by the renderers: technique colours parsed, a readable text colour picked
//! by WCAG contrast, and the nearest xterm 256-colour.

use rhetor_core::Technique;

/// A technique's colour as RGB.
pub(super) fn technique_rgb(t: Technique) -> (u8, u8, u8) {
    rgb(t.color())
}

pub(super) fn rgb(hex: &str) -> (u8, u8, u8) {
    let h = hex.trim_start_matches('#');
    let p = |i: usize| {
        h.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .unwrap_or(0x80)
    };
    (p(0), p(2), p(4))
}

/// WCAG relative luminance.
pub(super) fn luminance(r: u8, g: u8, b: u8) -> f64 {
    let lin = |v: u8| {
        let c = v as f64 / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// True when black text contrasts more with the colour than white text does.
pub(super) fn prefers_black(r: u8, g: u8, b: u8) -> bool {
    let l = luminance(r, g, b);
    (l + 0.05) / 0.05 >= 1.05 / (l + 0.05)
}

/// The nearest colour of the xterm 256-colour palette (6×6×6 cube or grey ramp).
pub(super) fn ansi256(r: u8, g: u8, b: u8) -> u8 {
    const LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];
    let near = |v: u8| {
        (0..6)
            .min_by_key(|&i| (LEVELS[i] as i32 - v as i32).abs())
            .unwrap_or(0)
    };
    let (ri, gi, bi) = (near(r), near(g), near(b));
    let dist = |a: (u8, u8, u8)| {
        let d = |x: u8, y: u8| (x as i32 - y as i32).pow(2);
        d(a.0, r) + d(a.1, g) + d(a.2, b)
    };
    let cube = (LEVELS[ri], LEVELS[gi], LEVELS[bi]);
    let grey_i = ((r as u32 + g as u32 + b as u32) / 3).saturating_sub(3) / 10;
    let grey_i = grey_i.min(23) as u8;
    let gv = 8 + 10 * grey_i;
    if dist((gv, gv, gv)) < dist(cube) {
        232 + grey_i
    } else {
        16 + 36 * ri as u8 + 6 * gi as u8 + bi as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_technique_colour_gets_readable_text_and_the_palette_matches() {
        // Every technique's colour gets the more readable of black and white, at WCAG AA (4.5).
        for t in Technique::ALL {
            let (r, g, b) = technique_rgb(t);
            let l = luminance(r, g, b);
            let contrast = if prefers_black(r, g, b) {
                (l + 0.05) / 0.05
            } else {
                1.05 / (l + 0.05)
            };
            assert!(contrast >= 4.5, "{t}: {contrast}");
        }
        assert!(!prefers_black(0x20, 0x30, 0x70));
        assert_eq!(rgb("#4e79a7"), (0x4e, 0x79, 0xa7));
        assert_eq!(rgb("#zz"), (0x80, 0x80, 0x80));
        assert_eq!(ansi256(255, 255, 255), 231);
        assert_eq!(ansi256(0, 0, 0), 16);
        assert_eq!(ansi256(0x80, 0x80, 0x80), 244);
    }
}
