//! The Huffman tree of hierarchical softmax, built as gensim's `_build_heap` and
//! `_assign_binary_codes` build it, with Python's `heapq` tie-breaking.

/// A word's path in the Huffman tree: the inner nodes from the root (`points`, rows of `syn1`)
/// and the branch taken at each (`codes`, 0 = left, 1 = right).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HuffmanPath {
    /// Branch bits from the root down to the word.
    pub codes: Vec<u8>,
    /// Inner-node indexes from the root down to the word's parent.
    pub points: Vec<u32>,
}

/// A node of the Huffman heap: gensim's `Heapitem(count, index, left, right)`, compared by
/// count only. Leaves are nodes `0..n` (word indexes), the `i`-th merge creates node `n + i`.
#[derive(Debug, Clone, Copy)]
struct HeapItem {
    count: u64,
    node: usize,
}

/// Python's `heapq._siftdown`, comparing with `<` only (so ties resolve exactly as in Python).
fn sift_down(heap: &mut [HeapItem], start: usize, mut pos: usize) {
    let item = heap[pos];
    while pos > start {
        let parent = (pos - 1) >> 1;
        if item.count < heap[parent].count {
            heap[pos] = heap[parent];
            pos = parent;
            continue;
        }
        break;
    }
    heap[pos] = item;
}

/// Python's `heapq._siftup`: move the smaller child up to the leaf level, then sift down.
fn sift_up(heap: &mut [HeapItem], mut pos: usize) {
    let end = heap.len();
    let start = pos;
    let item = heap[pos];
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end && heap[child].count >= heap[right].count {
            child = right;
        }
        heap[pos] = heap[child];
        pos = child;
        child = 2 * pos + 1;
    }
    heap[pos] = item;
    sift_down(heap, start, pos);
}

/// Python's `heapq.heappop` on a non-empty heap.
fn heap_pop(heap: &mut Vec<HeapItem>) -> Option<HeapItem> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let top = std::mem::replace(&mut heap[0], last);
    sift_up(heap, 0);
    Some(top)
}

/// gensim's `_build_heap` + `_assign_binary_codes`: repeatedly merge the two smallest nodes
/// (first popped = left = code 0), then give each word the path from the root.
pub fn huffman_paths(counts: &[u64]) -> Vec<HuffmanPath> {
    let n = counts.len();
    let mut heap: Vec<HeapItem> = counts
        .iter()
        .enumerate()
        .map(|(node, &count)| HeapItem { count, node })
        .collect();
    for i in (0..n / 2).rev() {
        sift_up(&mut heap, i);
    }
    // children[i] = (left, right) of inner node n + i.
    let mut children = Vec::with_capacity(n.saturating_sub(1));
    for i in 0..n.saturating_sub(1) {
        let (Some(left), Some(right)) = (heap_pop(&mut heap), heap_pop(&mut heap)) else {
            break;
        };
        children.push((left.node, right.node));
        heap.push(HeapItem {
            count: left.count + right.count,
            node: n + i,
        });
        let last = heap.len() - 1;
        sift_down(&mut heap, 0, last);
    }
    let mut paths = vec![HuffmanPath::default(); n];
    let Some(root) = heap.first() else {
        return paths;
    };
    let mut stack = vec![(root.node, HuffmanPath::default())];
    while let Some((node, path)) = stack.pop() {
        if node < n {
            paths[node] = path;
            continue;
        }
        let inner = node - n;
        let (left, right) = children[inner];
        for (child, code) in [(left, 0u8), (right, 1u8)] {
            let mut child_path = path.clone();
            child_path.codes.push(code);
            child_path.points.push(inner as u32);
            stack.push((child, child_path));
        }
    }
    paths
}
