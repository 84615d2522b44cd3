//! A map keyed by the nodes of one parsed page, stored as a vector indexed by node.
//!
//! The walks over a page ask about each node many times; a hash map costs a hash and a probe
//! each time, a vector one bounds check. ego_tree's node ids are indices into the tree's node
//! vector but keep the index private; they hash it as a `usize`, which [`slot`] reads back.

use std::hash::{Hash, Hasher};

use ego_tree::NodeId;

/// The index of a node in its tree.
fn slot(id: NodeId) -> usize {
    let mut h = SlotHasher(0);
    id.hash(&mut h);
    h.0 as usize
}

struct SlotHasher(u64);

impl Hasher for SlotHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached if the id ever hashed as bytes: read them as one little-endian number.
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 |= u64::from(*b) << (8 * i);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = n as u64;
    }
}

pub struct NodeMap<V> {
    values: Vec<Option<V>>,
}

impl<V> Default for NodeMap<V> {
    fn default() -> Self {
        NodeMap { values: Vec::new() }
    }
}

impl<V> NodeMap<V> {
    pub fn get(&self, id: &NodeId) -> Option<&V> {
        self.values.get(slot(*id)).and_then(Option::as_ref)
    }

    pub fn get_mut(&mut self, id: &NodeId) -> Option<&mut V> {
        self.values.get_mut(slot(*id)).and_then(Option::as_mut)
    }

    pub fn insert(&mut self, id: NodeId, value: V) {
        *self.place(id) = Some(value);
    }

    pub fn remove(&mut self, id: &NodeId) -> Option<V> {
        self.values.get_mut(slot(*id)).and_then(Option::take)
    }

    pub fn values_mut(&mut self) -> impl Iterator<Item = &mut V> {
        self.values.iter_mut().flatten()
    }

    /// Every entry, leaving the map empty.
    pub fn drain(&mut self) -> impl Iterator<Item = V> + '_ {
        self.values.drain(..).flatten()
    }

    /// The slot for `id`, made when missing.
    pub fn place(&mut self, id: NodeId) -> &mut Option<V> {
        let i = slot(id);
        if i >= self.values.len() {
            self.values.resize_with(i + 1, || None);
        }
        &mut self.values[i]
    }
}

impl<V: Default> NodeMap<V> {
    /// The value for `id`, inserted as the default when there is none.
    pub fn or_default(&mut self, id: NodeId) -> &mut V {
        self.place(id).get_or_insert_with(V::default)
    }
}

impl<V> std::ops::Index<&NodeId> for NodeMap<V> {
    type Output = V;

    fn index(&self, id: &NodeId) -> &V {
        self.get(id).expect("a node in the map")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_read_back_as_distinct_small_indices() {
        let doc =
            scraper::Html::parse_document("<html><body><p>a<b>b</b></p><p>c</p></body></html>");
        let mut slots: Vec<usize> = doc.tree.nodes().map(|n| slot(n.id())).collect();
        let count = slots.len();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots.len(), count, "distinct");
        assert!(
            slots.iter().all(|s| *s <= count),
            "{slots:?} within the tree's size"
        );
        let mut map: NodeMap<u32> = NodeMap::default();
        for n in doc.tree.nodes() {
            *map.or_default(n.id()) += 1;
        }
        assert!(doc.tree.nodes().all(|n| map[&n.id()] == 1));
    }
}
