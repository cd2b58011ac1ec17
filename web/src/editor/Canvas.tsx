// The React Flow canvas: minimap, zoom, snap, multi-select, drop from the palette.
import { memo, useCallback, useMemo, useRef, type DragEvent } from 'react';
import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type NodeMouseHandler, type NodeTypes } from '@xyflow/react';
import { useEditor, type FNode } from '../stores/editor';
import { useNodeTypes } from '../stores/nodeTypes';
import { useT } from '../stores/ui';
import { FlowNode } from './FlowNode';
import { DND_TYPE } from './Palette';

// Props that never change, defined once: React Flow passes some of them (onNodeClick among them)
// to every node wrapper, and a new identity re-renders all 500 nodes; key lists re-bind listeners.
const SNAP: [number, number] = [20, 20];
const MULTI_KEYS = ['Meta', 'Shift', 'Control'];
const DELETE_KEYS = ['Delete', 'Backspace'];
const FIT = { maxZoom: 1 };
const PRO = { hideAttribution: true };

export const Canvas = memo(function Canvas({ onNodeClick }: { onNodeClick: (id: string) => void }) {
  const t = useT();
  const nodes = useEditor((s) => s.nodes);
  const edges = useEditor((s) => s.edges);
  const onNodesChange = useEditor((s) => s.onNodesChange);
  const onEdgesChange = useEditor((s) => s.onEdgesChange);
  const onConnect = useEditor((s) => s.onConnect);
  const addNode = useEditor((s) => s.addNode);
  const checkpoint = useEditor((s) => s.checkpoint);
  const types = useNodeTypes((s) => s.types);
  const { screenToFlowPosition } = useReactFlow();

  // every node is a FlowNode: the map changes only when a node of a type not yet in it appears
  const typeKey = useEditor((s) => nodeTypeKey(s.nodes));
  const nodeTypes = useMemo<NodeTypes>(() => {
    const m: NodeTypes = {};
    for (const n of types ?? []) m[n.type] = FlowNode;
    for (const ty of typeKey.split('\n')) if (ty && !m[ty]) m[ty] = FlowNode;
    return m;
  }, [types, typeKey]);

  const clickRef = useRef(onNodeClick);
  clickRef.current = onNodeClick;
  const onClick = useCallback<NodeMouseHandler<FNode>>((_, n) => clickRef.current(n.id), []);

  const onDrop = useCallback(
    (e: DragEvent) => {
      const type = e.dataTransfer.getData(DND_TYPE);
      if (!type) return;
      e.preventDefault();
      const p = screenToFlowPosition({ x: e.clientX, y: e.clientY });
      addNode(type, { x: Math.round(p.x / 20) * 20, y: Math.round(p.y / 20) * 20 }, { label: useNodeTypes.getState().byType[type]?.label ?? type });
    },
    [addNode, screenToFlowPosition],
  );

  return (
    <div className="canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop} data-testid="canvas">
      <ReactFlow
        aria-label={t('editor.canvas')}
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        onNodeDragStart={checkpoint}
        onNodeClick={onClick}
        snapToGrid
        snapGrid={SNAP}
        onlyRenderVisibleElements
        selectionOnDrag={false}
        multiSelectionKeyCode={MULTI_KEYS}
        deleteKeyCode={DELETE_KEYS}
        fitView
        fitViewOptions={FIT}
        minZoom={0.05}
        proOptions={PRO}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
        <Controls />
      </ReactFlow>
    </div>
  );
});

/** The node types on the canvas, sorted and joined: a string, so equal sets compare equal. */
let lastNodes: FNode[] | null = null;
let lastKey = '';
function nodeTypeKey(nodes: FNode[]): string {
  if (nodes === lastNodes) return lastKey;
  const set = new Set<string>();
  for (const n of nodes) if (n.type) set.add(n.type);
  lastNodes = nodes;
  lastKey = [...set].sort().join('\n');
  return lastKey;
}
