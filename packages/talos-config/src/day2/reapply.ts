import { spawn } from 'node:child_process';

/**
 * After a Kubernetes upgrade, every Kubernetes layer is applied again through Nx (in dependency order, as a
 * normal apply), so objects whose API or defaults moved with the new version are brought to their rendered
 * state. talos-config itself is left out: the upgrade has just brought it there.
 */
export function reapplyLayers(root: string, cluster: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['nx', 'run-many', '-t', 'apply', `--cluster=${cluster}`, '--exclude=talos-config'], { cwd: root, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`re-applying the layers failed (nx exited ${code}); run: npx nx run-many -t apply --cluster=${cluster}`))));
  });
}
