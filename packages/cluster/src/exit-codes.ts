/**
 * What a layer script's exit code means, so scripts and CI can tell failures apart: problems found (1), bad
 * usage (2), an API server that belongs to another cluster (3), a conflict with another field manager (4),
 * nodes that do not answer (5), an operation refused because it is not safe now (6: etcd would lose its quorum,
 * a PodDisruptionBudget allows no eviction, an upgrade path Kubernetes does not support).
 */
export const EXIT_CODES = { problems: 1, usage: 2, otherCluster: 3, conflict: 4, unreachable: 5, refused: 6 } as const;
