import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes } from 'react-router-dom';
import { useAuth } from './stores/auth';
import { Shell } from './components/Shell';
import { SignIn } from './pages/SignIn';
import { PipelinesPage } from './pages/Pipelines';
import { Loading } from './components/States';

const EditorPage = lazy(() => import('./editor/EditorPage'));
const DetailPage = lazy(() => import('./pages/detail/DetailPage'));
const ApprovalsPage = lazy(() => import('./pages/Approvals'));
const AnalyticsPage = lazy(() => import('./pages/Analytics'));

export function App() {
  const token = useAuth((s) => s.token);
  if (!token) return <SignIn />;
  return (
    <Shell>
      <Suspense fallback={<Loading />}>
        <Routes>
          <Route path="/" element={<Navigate to="/pipelines" replace />} />
          <Route path="/pipelines" element={<PipelinesPage />} />
          <Route path="/pipelines/analytics" element={<AnalyticsPage />} />
          <Route path="/pipelines/:id" element={<DetailPage />} />
          <Route path="/pipelines/:id/editor" element={<EditorPage />} />
          <Route path="/approvals" element={<ApprovalsPage />} />
          <Route path="*" element={<Navigate to="/pipelines" replace />} />
        </Routes>
      </Suspense>
    </Shell>
  );
}
