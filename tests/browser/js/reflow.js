// What makes the page scroll sideways: the widest culprits outside any scrolling box (a11y.py).
() => {
    const root = document.documentElement;
    if (root.scrollWidth <= root.clientWidth + 1) return [];
    const limit = root.clientWidth + 1;
    const wide = [];
    // The widest culprits not inside a box that scrolls on its own.
    for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.right <= limit || box.width === 0) continue;
        let clipped = false;
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
            const style = getComputedStyle(up);
            if (['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX)) {
                clipped = true; break;
            }
        }
        if (clipped) continue;
        const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
            + (el.className && typeof el.className === 'string'
               ? '.' + el.className.trim().split(/\s+/).join('.') : '');
        wide.push(`${name} ends at ${Math.round(box.right)}px`);
        if (wide.length >= 6) break;
    }
    return [`page is ${root.scrollWidth}px wide for ${root.clientWidth}px`, ...wide];
}
