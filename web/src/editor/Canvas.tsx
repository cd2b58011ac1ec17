// The React Flow canvas: minimap, zoom, snap, multi-select, drop from the palette.
import { useCallback, useMemo, type DragEvent } from 'react';
import { Background, Controls, MiniMap, ReactFlow, useReactFlow, type NodeTypes } from '@xyflow/react';
import { useEditor } from '../stores/editor';
import { useNodeTypes } from '../stores/nodeTypes';
import { useT } from '../stores/ui';
import { FlowNode } from './FlowNode';
import { DND_TYPE } from './Palette';

export function Canvas({ onNodeClick }: { onNodeClick: (id: string) => void }) {
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

  const nodeTypes = useMemo<NodeTypes>(() => {
    const m: NodeTypes = {};
    for (const n of types ?? []) m[n.type] = FlowNode;
    for (const n of nodes) if (n.type && !m[n.type]) m[n.type] = FlowNode;
    return m;
    // node types change only when a node of a new type appears
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [types, nodes.map((n) => n.type).join()]);

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
        onNodeClick={(_, n) => onNodeClick(n.id)}
        snapToGrid
        snapGrid={[20, 20]}
        onlyRenderVisibleElements
        selectionOnDrag={false}
        multiSelectionKeyCode={['Meta', 'Shift', 'Control']}
        deleteKeyCode={['Delete', 'Backspace']}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        minZoom={0.05}
        proOptions={{ hideAttribution: true }}
      >
        <Background gap={20} />
        <MiniMap pannable zoomable ariaLabel="Minimap" />
        <Controls />
      </ReactFlow>
    </div>
  );
}
