import { NAMESPACE, PORTS } from '../names.ts';

/** Where Fluent Bit keeps its read positions on the node, so a restart neither skips nor repeats lines. */
export const STATE_DIR = '/var/lib/fluent-bit';

/**
 * Fluent Bit's classic configuration: tail every container log (CRI format, as containerd writes it on
 * Talos), add Kubernetes metadata, send to Loki with namespace, pod, container and node as labels.
 */
export function fluentBitConfig(): string {
  const section = (name: string, entries: Array<[string, string | number]>) =>
    [`[${name}]`, ...entries.map(([k, v]) => `    ${k.padEnd(22)} ${v}`)].join('\n');
  return `${[
    section('SERVICE', [
      ['Flush', 2],
      ['Log_Level', 'warn'],
      ['Daemon', 'off'],
      ['HTTP_Server', 'On'],
      ['HTTP_Listen', '0.0.0.0'],
      ['HTTP_Port', PORTS.fluentBit],
      ['Health_Check', 'On'],
      ['storage.path', `${STATE_DIR}/buffer`],
    ]),
    section('INPUT', [
      ['Name', 'tail'],
      ['Tag', 'kube.*'],
      ['Path', '/var/log/containers/*.log'],
      ['multiline.parser', 'cri'],
      ['DB', `${STATE_DIR}/tail.db`],
      ['Mem_Buf_Limit', '8MB'],
      ['Skip_Long_Lines', 'On'],
      ['Refresh_Interval', 10],
      ['storage.type', 'filesystem'],
    ]),
    section('FILTER', [
      ['Name', 'kubernetes'],
      ['Match', 'kube.*'],
      ['Merge_Log', 'Off'],
      ['Labels', 'Off'],
      ['Annotations', 'Off'],
      ['K8S-Logging.Exclude', 'On'],
    ]),
    section('OUTPUT', [
      ['Name', 'loki'],
      ['Match', 'kube.*'],
      ['Host', `loki.${NAMESPACE}.svc`],
      ['Port', PORTS.loki],
      ['labels', "job=fluent-bit, node=${NODE_NAME}, namespace=$kubernetes['namespace_name'], pod=$kubernetes['pod_name'], container=$kubernetes['container_name']"],
      // The Kubernetes metadata is in the labels; the line stays the line the container wrote. The CRI parser
      // also leaves its time and partial-line flag (_p): with them the record has more than one key, and
      // drop_single_key would send the whole record as a JSON blob.
      ['remove_keys', 'kubernetes, stream, time, _p'],
      ['drop_single_key', 'raw'],
      ['Retry_Limit', 5],
    ]),
  ].join('\n\n')}\n`;
}
