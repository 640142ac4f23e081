module.exports = require('../../libs/testing/jest.preset')(__dirname, { testEnvironment: require.resolve('../../libs/models/jest.onnx-environment.js') });
