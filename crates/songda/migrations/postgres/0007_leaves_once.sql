-- A leaf's hash is kept once, in evidence.leaf_hash: log_nodes no longer repeats it as the
-- level-0 node. Proofs read leaves from evidence and larger subtrees from log_nodes.
DELETE FROM log_nodes WHERE level = 0;
