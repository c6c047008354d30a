// The focused element's ring and its contrast with the background behind it (a11y.py).
() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const parse = (text) => {
        const m = text.match(/rgba?\(([^)]+)\)/);
        if (!m) return null;
        const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
        return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
    };
    const lum = (c) => {
        const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
        return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
    };
    const ratio = (a, b) => {
        const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
        return (x + 0.05) / (y + 0.05);
    };
    // The colour behind the ring: the first opaque background of the element's ancestors.
    let behind = {r: 255, g: 255, b: 255, a: 1};
    for (let up = el.parentElement; up; up = up.parentElement) {
        const bg = parse(getComputedStyle(up).backgroundColor);
        if (bg && bg.a > 0.5) { behind = bg; break; }
    }
    const style = getComputedStyle(el);
    const rings = [];
    const width = parseFloat(style.outlineWidth) || 0;
    if (style.outlineStyle !== 'none' && width >= 2) {
        const c = parse(style.outlineColor);
        if (c && c.a > 0.5) rings.push(ratio(c, behind));
    }
    for (const shadow of (style.boxShadow === 'none' ? [] : style.boxShadow.split(/,(?![^(]*\))/))) {
        const c = parse(shadow);
        const sizes = shadow.replace(/rgba?\([^)]*\)/, '').trim().split(/\s+/).map(parseFloat);
        const spread = sizes.length >= 4 ? sizes[3] : 0;
        if (c && c.a > 0.5 && spread >= 2) rings.push(ratio(c, behind));
    }
    const label = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
        + ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30) + '"';
    return {label, best: rings.length ? Math.max(...rings) : 0};
}
