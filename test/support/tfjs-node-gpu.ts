/** Whether `pipewright setup --gpu` installed tfjs-node-gpu in this checkout (no machine here has a GPU to run it on). */
export const tfjsNodeGpuInstalled = (() => {
  try {
    require.resolve('@tensorflow/tfjs-node-gpu');
    return true;
  } catch {
    return false;
  }
})();
